"""The attacker's tests of webhooks: a hostile receiver, redirects, SSRF by address spelling, secrets in every output.

A receiver is someone else's server: it may stall, drip, flood, never close or redirect to an inside address.
None of that may hold a worker beyond the attempt's deadline, be followed to another host, or bring the URL's
path or the signing secret into the delivery log, the audit trail, a finding or the log.
"""

import json
import logging
import time

import pytest
from django.db import transaction

from audits.models import AuditEvent
from audits.services import audit_record
from fmgov.core.exceptions import InvalidInput
from fmgov.findings.models import Finding
from fmgov.webhooks.delivery import delivery_attempt
from fmgov.webhooks.models import WebhookDelivery
from fmgov.webhooks.tests.factories import make_endpoint
from fmgov.webhooks.tests.hostile import HostileReceiver
from fmgov.webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db
DEADLINE = 1.0
SLACK = 1.5  # connection set-up and the attempt's two short transactions, on a loaded 2-core CI machine
PATH_TOKEN = "Qz8PathToken"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_DEADLINE_SECONDS = DEADLINE
    settings.WEBHOOK_DISABLE_AFTER = 1  # the first failure disables: its audit event and finding are checked too


def _event() -> None:
    with transaction.atomic():
        audit_record(action="review.approve", system="test", object_type="x.thing", object_id=7, object_repr="t")


def _attempt() -> tuple[WebhookDelivery, float]:
    started = time.monotonic()
    delivery_attempt(str(WebhookDelivery.objects.get().pk))
    return WebhookDelivery.objects.get(), time.monotonic() - started


def _everything_written() -> str:
    events = [[e.action, e.changes, e.context, e.object_repr] for e in AuditEvent.objects.all()]
    findings = [[f.title, f.detail] for f in Finding.objects.all()]
    deliveries = [[d.error, d.payload] for d in WebhookDelivery.objects.all()]
    return json.dumps([events, findings, deliveries], default=str)


@pytest.mark.parametrize("behaviour", ["stall", "drip", "never-closes", "flood", "flood-undeclared"])
def test_a_hostile_receiver_holds_the_worker_no_longer_than_the_deadline(admin_user, behaviour, caplog):
    caplog.set_level(logging.INFO)  # production logs at INFO (LOG_LEVEL)
    with HostileReceiver(behaviour) as hostile:
        _, secret = make_endpoint(admin_user, hostile.url())
        _event()
        delivery, elapsed = _attempt()
    assert len(hostile.requests) == 1
    assert elapsed < DEADLINE + SLACK, f"{behaviour} held the attempt for {elapsed:.1f} s"
    assert delivery.status == "failed" and delivery.delivered_at is None  # disabled after one failure
    origin = hostile.url("")
    assert delivery.error.startswith(origin) or origin in delivery.error
    written = _everything_written() + caplog.text
    assert PATH_TOKEN not in written and secret not in written
    assert Finding.objects.filter(source="webhook").count() == 1


def test_a_redirect_is_not_followed_to_another_host(admin_user, settings):
    settings.WEBHOOK_DISABLE_AFTER = 15
    with Receiver() as inside, HostileReceiver("redirect", location=inside.url("/internal-admin")) as hostile:
        make_endpoint(admin_user, hostile.url())
        _event()
        delivery, _ = _attempt()
    assert len(hostile.requests) == 1 and inside.received == []
    assert (delivery.status, delivery.response_code) == ("pending", None)  # a failed attempt, retried later
    assert "redirect" in delivery.error and "internal-admin" not in delivery.error and PATH_TOKEN not in delivery.error


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0.0.0.0"],
)
def test_loopback_spelled_any_way_is_refused_without_an_allowance(admin_user, settings, host):
    """Refused when the URL is registered (not a URL) or when it is sent (the egress policy): never reached."""
    settings.EGRESS_MODE, settings.EGRESS_ALLOW = "public", []
    with Receiver() as inside:
        url = f"http://{host}:{inside.server_address[1]}/hook"
        try:
            make_endpoint(admin_user, url)
        except InvalidInput as exc:
            assert "url" in exc.field_errors
        else:
            _event()
            delivery, _ = _attempt()
            assert delivery.status == "failed" and "egress policy" in delivery.error
    assert inside.received == []


def test_a_duplicate_task_for_a_delivered_event_sends_nothing(admin_user):
    with Receiver() as receiver:
        make_endpoint(admin_user, receiver.url())
        _event()
        first, _ = _attempt()
        second, _ = _attempt()  # a redelivered Celery message, or the sweeper racing the task
    assert first.status == "succeeded" and len(receiver.received) == 1
    assert (second.attempts, second.status) == (1, "succeeded")
