"""Deliveries, in-process: every event type reaches a loopback receiver signed; retries, refusals, disabling."""

import json
import time

import pytest
from django.db import transaction
from django.test import override_settings

from audits.models import AuditEvent
from audits.services import audit_record
from fmgov.core.egress import EgressRefused, check_destination
from fmgov.findings.models import Finding
from fmgov.webhooks import tasks
from fmgov.webhooks.choices import EVENT_FROM_ACTION
from fmgov.webhooks.delivery import delivery_attempt
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.services import deliveries_sweep, webhook_endpoint_rotate_secret
from fmgov.webhooks.signing import verify_signature
from fmgov.webhooks.tests.factories import deliver_due, make_endpoint
from fmgov.webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_DEADLINE_SECONDS = 5


def _record(action: str, **kwargs) -> AuditEvent:
    with transaction.atomic():
        return audit_record(
            action=action, system="test", object_type="x.thing", object_id=7, object_repr="<b>thing</b>", **kwargs
        )


def _assert_signed(request, secret: str, event_type: str) -> dict:
    headers = request.headers
    assert headers["X-Fmgov-Event"] == event_type
    assert verify_signature(secret, headers["X-Fmgov-Timestamp"], request.body, headers["X-Fmgov-Signature"])
    assert not verify_signature("whsec_wrong", headers["X-Fmgov-Timestamp"], request.body, headers["X-Fmgov-Signature"])
    assert headers["Content-Type"] == "application/json"
    return json.loads(request.body)


@pytest.mark.parametrize(("action", "event_type"), sorted(EVENT_FROM_ACTION.items()))
def test_each_event_type_reaches_the_receiver_signed_and_names_its_audit_event(admin_user, action, event_type):
    with Receiver() as receiver:
        endpoint, secret = make_endpoint(admin_user, receiver.url(), [event_type])
        make_endpoint(admin_user, receiver.url("/other"), sorted(set(EVENT_FROM_ACTION.values()) - {event_type}))
        started = time.monotonic()
        event = _record(action)
        deliver_due()
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert [r.path for r in receiver.received] == ["/hook"]
    body = _assert_signed(receiver.received[0], secret, event_type)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert receiver.received[0].headers["X-Fmgov-Delivery"] == str(delivery.pk) == body["id"]
    assert body["type"] == event_type
    assert body["audit_event"]["sequence"] == event.seq and body["audit_event"]["hash"] == event.hash
    assert body["audit_event"]["action"] == action
    assert body["audit_event"]["object"] == {"type": "x.thing", "id": "7", "repr": "<b>thing</b>"}
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 1, 200)
    assert (delivery.audit_seq, delivery.audit_hash) == (event.seq, event.hash)
    assert delivery.latency_ms is not None and delivery.error == ""


def test_unrelated_actions_and_rolled_back_changes_deliver_nothing(admin_user, django_capture_on_commit_callbacks):
    make_endpoint(admin_user, "https://receiver.example/hook", ["*"])
    with django_capture_on_commit_callbacks() as callbacks:
        _record("review.create")
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="review.approve", system="test", object_type="x.thing", object_id=1)
            raise RuntimeError("the change fails after its audit event")
    assert not WebhookDelivery.objects.exists() and callbacks == []


def test_a_delivery_is_enqueued_once_its_audit_event_commits(
    admin_user, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda delivery_id: sent.append(delivery_id))
    make_endpoint(admin_user, "https://receiver.example/hook", ["review.approved"])
    with django_capture_on_commit_callbacks(execute=True):
        _record("review.approve")
        assert sent == []  # nothing leaves before the commit
    assert sent == [str(WebhookDelivery.objects.get().pk)]


def test_real_services_trigger_finding_opened_and_audit_checkpoint(admin_user, django_capture_on_commit_callbacks):
    from audits.checkpoints import checkpoint_create
    from fmgov.findings.services import finding_open

    with Receiver() as receiver:
        _, secret = make_endpoint(admin_user, receiver.url(), ["finding.opened", "audit.checkpoint"])
        finding, _ = finding_open(source="portfolio", title="Concentration above the threshold", system="test")
        with django_capture_on_commit_callbacks(execute=True):
            checkpoint = checkpoint_create()
        deliver_due()
    first, second = receiver.received
    opened = _assert_signed(first, secret, "finding.opened")
    assert opened["audit_event"]["object"]["id"] == str(finding.pk)
    assert opened["audit_event"]["sequence"] == AuditEvent.objects.get(action="finding.open").seq
    signed = _assert_signed(second, secret, "audit.checkpoint")
    assert (signed["audit_event"]["sequence"], signed["audit_event"]["hash"]) == (checkpoint.seq, checkpoint.head_hash)
    assert signed["audit_event"]["signature"]["value"] == checkpoint.signature


def test_failing_twice_then_succeeding_ends_with_one_2xx_under_one_delivery_id(admin_user):
    with Receiver(statuses=[500, 503]) as receiver:
        endpoint, secret = make_endpoint(admin_user, receiver.url(), ["deployment.live"])
        _record("deployment.go_live")
        deliver_due()
    assert len(receiver.received) == 3
    ids = {r.headers["X-Fmgov-Delivery"] for r in receiver.received}
    delivery = WebhookDelivery.objects.get()
    assert ids == {str(delivery.pk)}
    assert len({r.body for r in receiver.received}) == 1  # the same bytes each time; only the signature's time moves
    for request in receiver.received:
        _assert_signed(request, secret, "deployment.live")
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("succeeded", 3, 200)
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 1
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0
    assert "receiver body" not in json.dumps(list(WebhookDelivery.objects.values()), default=str)


def test_retries_back_off_exponentially_and_are_not_sent_early(admin_user, settings, monkeypatch):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    retries = []
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async", lambda args, countdown: retries.append(countdown))
    with Receiver(statuses=[500, 500, 500]) as receiver:
        make_endpoint(admin_user, receiver.url(), ["*"])
        _record("review.submit")
        delivery = WebhookDelivery.objects.get()
        assert tasks.deliver_webhook(str(delivery.pk)) == "retrying"
        assert delivery_attempt(str(delivery.pk)).status.startswith("skipped: not due")
        for _ in range(2):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
            tasks.deliver_webhook(str(delivery.pk))
    assert retries == [30, 60, 120] and len(receiver.received) == 3
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 3, 500)
    assert delivery.error == f"{WebhookEndpoint.objects.get().origin} answered 500."


@pytest.mark.parametrize("address", ["10.20.30.40", "169.254.169.254", "192.168.1.1", "[fd00::1]"])
def test_an_egress_refused_destination_is_a_failed_attempt_and_nothing_is_sent(admin_user, address):
    host = address.strip("[]")
    with pytest.raises(EgressRefused):  # the check the client runs inside its connection, before any socket
        check_destination(host, 8080)
    make_endpoint(admin_user, f"http://{address}:8080/secret-path-token", ["*"])
    _record("review.approve")
    outcome = delivery_attempt(str(WebhookDelivery.objects.get().pk))
    delivery = WebhookDelivery.objects.get()
    assert outcome.status == "retrying" and outcome.retry_in == 0
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, None)
    assert "egress policy refuses" in delivery.error and "secret-path-token" not in delivery.error
    assert WebhookEndpoint.objects.get().consecutive_failures == 1


def test_repeated_failure_disables_the_endpoint_with_an_audited_system_action_and_a_finding(admin_user, settings):
    settings.WEBHOOK_DISABLE_AFTER, settings.WEBHOOK_MAX_ATTEMPTS = 3, 10
    with Receiver(statuses=[500] * 20) as failing, Receiver() as watcher:
        endpoint, _ = make_endpoint(admin_user, failing.url(), ["review.approved"])
        _, watcher_secret = make_endpoint(admin_user, watcher.url(), ["finding.opened"])
        _record("review.approve")
        _record("review.approve")
        deliver_due()
    assert len(failing.received) == 3
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason == "Disabled after 3 consecutive failed delivery attempts."
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"failed"}
    disable = AuditEvent.objects.get(action="webhook.disable")
    assert disable.actor_system == "webhooks" and disable.actor_id is None
    assert disable.changes == {"active": [True, False]}
    finding = Finding.objects.get(source="webhook")
    assert finding.subject == endpoint and finding.state == "open" and finding.detail["failures"] == 3
    # The finding is itself an event: the endpoint still working hears about it.
    assert _assert_signed(watcher.received[0], watcher_secret, "finding.opened")["audit_event"]["object"]["id"] == str(
        finding.pk
    )


def test_a_rotated_secret_signs_the_next_attempt_and_the_old_one_no_longer_verifies(admin_user):
    with Receiver() as receiver:
        endpoint, old = make_endpoint(admin_user, receiver.url(), ["*"])
        _, new = webhook_endpoint_rotate_secret(endpoint=endpoint, actor=admin_user)
        _record("report.complete")
        deliver_due()
    request = receiver.received[0]
    _assert_signed(request, new, "report.succeeded")
    args = (request.headers["X-Fmgov-Timestamp"], request.body, request.headers["X-Fmgov-Signature"])
    assert not verify_signature(old, *args)


def test_slack_format_is_a_text_message_with_markup_escaped(admin_user):
    with Receiver() as receiver:
        _, secret = make_endpoint(admin_user, receiver.url(), ["*"], format="slack")
        event = _record("deployment.suspend")
        deliver_due()
    body = _assert_signed(receiver.received[0], secret, "deployment.suspended")
    assert set(body) == {"text"}
    assert "deployment.suspended" in body["text"] and f"#{event.seq}" in body["text"]
    assert "&lt;b&gt;thing&lt;/b&gt;" in body["text"] and "<b>" not in body["text"]


def test_a_worker_without_the_private_key_records_a_failed_attempt(admin_user):
    make_endpoint(admin_user, "https://receiver.example/hook", ["*"])
    _record("review.approve")
    with override_settings(CREDENTIAL_PRIVATE_KEY="", CREDENTIAL_PRIVATE_KEY_FILE=""):
        delivery_attempt(str(WebhookDelivery.objects.get().pk))
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and "only workers open sealed credentials" in delivery.error


def test_a_disabled_endpoint_gets_no_more_attempts_and_claimed_deliveries_are_not_sent_twice(admin_user, settings):
    from django.utils import timezone

    with Receiver() as receiver:
        endpoint, _ = make_endpoint(admin_user, receiver.url(), ["*"])
        _record("review.approve")
        _record("review.submit")
        first, second = WebhookDelivery.objects.order_by("audit_seq")
        later = timezone.now() + timezone.timedelta(minutes=1)
        WebhookDelivery.objects.filter(pk=first.pk).update(next_attempt_at=later)
        assert delivery_attempt(str(first.pk)).status.startswith("skipped: not due")  # another attempt holds it
        endpoint.active = False
        endpoint.save()
        assert delivery_attempt(str(second.pk)).status == "failed: endpoint disabled"
        assert delivery_attempt(str(second.pk)).status == "skipped: already failed"
        assert delivery_attempt("00000000-0000-0000-0000-000000000000").status == "missing"
    assert receiver.received == []


def test_the_sweeper_re_enqueues_only_deliveries_overdue_by_a_minute(admin_user, monkeypatch):
    from django.utils import timezone

    sent = []
    monkeypatch.setattr(tasks.deliver_webhook, "delay", lambda delivery_id: sent.append(delivery_id))
    make_endpoint(admin_user, "https://receiver.example/hook", ["*"])
    for action in ("review.approve", "review.submit", "finding.open"):
        _record(action)
    lost, fresh, done = WebhookDelivery.objects.order_by("audit_seq")
    WebhookDelivery.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now() - timezone.timedelta(minutes=2))
    WebhookDelivery.objects.filter(pk=done.pk).update(status="succeeded", next_attempt_at=None)
    assert tasks.sweep_webhook_deliveries() == 1 and sent == [str(lost.pk)]
    assert deliveries_sweep() == 1
