"""One delivery attempt, in a worker: claim, sign, send through the egress policy, record.

The claim (a short transaction) makes the delivery not due for the length of
one attempt, so a duplicate task or the sweeper never sends it twice at once;
a worker that dies mid-attempt leaves it due again once that lease passes.
The request is sent outside any transaction. The outcome is recorded with
the endpoint's failure count; when that reaches WEBHOOK_DISABLE_AFTER the
endpoint is switched off (an audited system action) and a finding is opened.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.egress import EgressClient, EgressError
from fmgov.findings.choices import FindingSource, Severity
from fmgov.findings.services import finding_open
from fmgov.registry.credential_store import CredentialUnavailable, unseal
from fmgov.webhooks import conf
from fmgov.webhooks.choices import DeliveryStatus
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.payloads import body_bytes
from fmgov.webhooks.services import sealed_name
from fmgov.webhooks.signing import sign

__all__ = ["Outcome", "delivery_attempt", "backoff_seconds", "USER_AGENT"]

USER_AGENT = "fmgov-webhooks/1"
SYSTEM = "webhooks"
ERROR_MAX = WebhookDelivery._meta.get_field("error").max_length


@dataclass(frozen=True)
class Outcome:
    """What the attempt did, and in how many seconds to try again (None: no further attempt)."""

    status: str
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    """Exponential: base, 2 x base, 4 x base, ... capped at WEBHOOK_RETRY_MAX_SECONDS."""
    return min(conf.retry_max_seconds(), conf.retry_base_seconds() * 2 ** max(0, attempts - 1))


def _claim(delivery_id: str) -> WebhookDelivery | str:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return "missing"
        if delivery.status != DeliveryStatus.PENDING:
            return f"skipped: already {delivery.status}"
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            return "skipped: not due (another attempt holds it, or its back-off has not passed)"
        endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
        if not endpoint.active:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delivery.error = "The endpoint was disabled before this delivery got through."
            delivery.save(update_fields=["status", "next_attempt_at", "error", "updated_at"])
            return "failed: endpoint disabled"
        lease = dt.timedelta(seconds=conf.attempt_deadline_seconds() + 30)
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.next_attempt_at = now, now + lease
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at", "updated_at"])
        delivery.endpoint = endpoint
        return delivery


def _send(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(response code, error); the error names the origin and the policy, never the URL's path or a body."""
    endpoint = delivery.endpoint
    try:
        url = unseal(endpoint.sealed_url, name=sealed_name(endpoint, "url"))
        secret = unseal(endpoint.sealed_secret, name=sealed_name(endpoint, "secret"))
    except CredentialUnavailable as exc:
        return None, str(exc)
    body = body_bytes(delivery.payload)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Fmgov-Event": delivery.event_type,
        "X-Fmgov-Delivery": str(delivery.pk),
        "X-Fmgov-Timestamp": timestamp,
        "X-Fmgov-Signature": sign(secret, timestamp, body),
    }
    try:
        with EgressClient(max_connections=1) as client:
            response = client.request(
                "POST",
                url,
                content=body,
                headers=headers,
                deadline_s=conf.attempt_deadline_seconds(),
                max_bytes=conf.max_response_bytes(),
            )
    except EgressError as exc:
        return None, str(exc)
    except Exception as exc:  # anything else is a failed attempt too; its text might hold the URL, so not shown
        return None, f"{exc.__class__.__name__} while sending to {endpoint.origin}."
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, f"{endpoint.origin} answered {response.status_code}."


def _disable(endpoint: WebhookEndpoint, error: str) -> None:
    failures = endpoint.consecutive_failures
    endpoint.active = False
    endpoint.disabled_reason = f"Disabled after {failures} consecutive failed delivery attempts."
    endpoint.save(update_fields=["active", "disabled_reason", "updated_at"])
    audit_record(
        action="webhook.disable",
        system=SYSTEM,
        obj=endpoint,
        changes={"active": [True, False]},
        context={"reason": endpoint.disabled_reason, "last_error": error},
    )
    finding_open(
        source=FindingSource.WEBHOOK,
        title=f"Webhook to {endpoint.origin} disabled after {failures} failed deliveries"[:300],
        subject=endpoint,
        severity=Severity.MEDIUM,
        detail={"endpoint": endpoint.pk, "origin": endpoint.origin, "failures": failures, "last_error": error},
        dedupe_key=f"webhook-disabled:{endpoint.pk}",
        system=SYSTEM,
    )


def _record(delivery_id: str, *, code: int | None, error: str, latency_ms: int) -> Outcome:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        now = timezone.now()
        delivery.response_code, delivery.latency_ms, delivery.error = code, latency_ms, error[:ERROR_MAX]
        if not error:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
            if endpoint.consecutive_failures:
                endpoint.consecutive_failures = 0
                endpoint.save(update_fields=["consecutive_failures", "updated_at"])
            outcome = Outcome("succeeded")
        else:
            endpoint.consecutive_failures += 1
            endpoint.save(update_fields=["consecutive_failures", "updated_at"])
            if endpoint.active and endpoint.consecutive_failures >= conf.disable_after_failures():
                _disable(endpoint, delivery.error)
            if not endpoint.active or delivery.attempts >= conf.max_attempts():
                delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
                outcome = Outcome("failed")
            else:
                delay = backoff_seconds(delivery.attempts)
                delivery.next_attempt_at = now + dt.timedelta(seconds=delay)
                outcome = Outcome("retrying", retry_in=delay)
        delivery.save()
        return outcome


def delivery_attempt(delivery_id: str) -> Outcome:
    """Make one attempt if the delivery is due; the task schedules the next one from the outcome."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, str):
        return Outcome(claimed)
    started = time.monotonic()
    code, error = _send(claimed)
    latency_ms = round((time.monotonic() - started) * 1000)
    return _record(str(claimed.pk), code=code, error=error, latency_ms=latency_ms)
