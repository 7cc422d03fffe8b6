"""End to end through a real Celery worker: a committed change reaches the loopback receiver, signed, in seconds."""

import json
import time

import pytest

from fmgov.core.testing.worker import wait_for
from fmgov.webhooks.models import WebhookDelivery
from fmgov.webhooks.signing import verify_signature
from fmgov.webhooks.tests.factories import make_endpoint
from fmgov.webhooks.tests.receiver import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_finding_opened_by_a_service_is_delivered_by_the_worker(celery_worker, admin_user):
    from fmgov.findings.services import finding_open

    with Receiver() as receiver:
        endpoint, secret = make_endpoint(admin_user, receiver.url(), ["finding.opened"])
        started = time.monotonic()
        finding, _ = finding_open(source="portfolio", title="Single point of failure", system="test")
        wait_for(lambda: receiver.received, timeout=30, message="the webhook delivery")
        elapsed = time.monotonic() - started
        delivery = wait_for(
            lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status="succeeded").first(),
            timeout=10,
            message="the delivery to be recorded",
        )
    assert elapsed < 10, f"took {elapsed:.1f} s"
    (request,) = receiver.received
    headers = request.headers
    assert headers["X-Fmgov-Event"] == "finding.opened" and headers["X-Fmgov-Delivery"] == str(delivery.pk)
    assert verify_signature(secret, headers["X-Fmgov-Timestamp"], request.body, headers["X-Fmgov-Signature"])
    body = json.loads(request.body)
    assert body["audit_event"]["object"] == {"type": "findings.finding", "id": str(finding.pk), "repr": str(finding)}
    assert (delivery.attempts, delivery.response_code) == (1, 200)
