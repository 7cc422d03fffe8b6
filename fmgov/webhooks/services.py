"""Writes on webhooks: admins register, change, rotate and redeliver; the audit trail creates deliveries.

Every endpoint change is an audit event that records the URL's origin, the
events, the format and the state, never the URL's path (a Slack URL is a
secret) nor the signing secret. Deliveries are created by
``deliveries_create`` inside the transaction of the audit event they report
(``audits.events.audit_event_recorded``), so a committed event always has its
delivery rows, and their tasks are enqueued only once it commits; the sweeper
re-enqueues any whose task was lost.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created, diff
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.registry.credential_store import CredentialUnavailable, seal
from fmgov.webhooks.choices import ALL_EVENTS, EVENT_TYPES, DeliveryStatus, PayloadFormat
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.payloads import build_payload

__all__ = [
    "WEBHOOK_FIELDS",
    "check_url",
    "normalise_events",
    "sealed_name",
    "webhook_endpoint_create",
    "webhook_endpoint_update",
    "webhook_endpoint_rotate_secret",
    "webhook_delivery_redeliver",
    "deliveries_create",
    "deliveries_sweep",
]

#: What an admin writes on an endpoint; ``url`` is write-only (its origin is shown).
WEBHOOK_FIELDS = ("url", "events", "format", "active")
_AUDIT_FIELDS = ("origin", "events", "format", "active")
MAX_URL_LENGTH = 2000
SWEEP_GRACE = dt.timedelta(seconds=60)
_url_validator = URLValidator(schemes=["http", "https"])


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field_errors={field: [message]})


def _ensure_admin(actor: Actor) -> None:
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may register or change webhooks.")


def check_url(value: Any) -> tuple[str, str]:
    """The URL and its origin (scheme://host[:port]): http or https, a host, no user or password in it."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse("url", "Give the receiver's URL.")
    url = value.strip()
    if len(url) > MAX_URL_LENGTH:
        raise _refuse("url", f"At most {MAX_URL_LENGTH} characters.")
    try:
        _url_validator(url)
        parts = urlsplit(url)
        httpx.URL(url)
    except (ValidationError, ValueError, httpx.InvalidURL):
        raise _refuse("url", "Give an http:// or https:// URL with a host.") from None
    if parts.username is not None or parts.password is not None:
        raise _refuse("url", "The URL may not carry a user name or password; the signature authenticates us.")
    return url, f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def normalise_events(value: Any) -> list[str]:
    """A list of known event types without repeats, or ["*"] for every event."""
    if not isinstance(value, list | tuple) or not value:
        raise _refuse("events", 'List the event types, or ["*"] for all of them.')
    events: list[str] = []
    for item in value:
        if item != ALL_EVENTS and item not in EVENT_TYPES:
            raise _refuse("events", f"{str(item)[:60]!r} is not an event type; one of {', '.join(EVENT_TYPES)}.")
        if item not in events:
            events.append(item)
    if ALL_EVENTS in events and len(events) > 1:
        raise _refuse("events", '"*" means every event and stands alone.')
    return events


def _check_format(value: Any) -> str:
    if value not in PayloadFormat.values:
        raise _refuse("format", f"One of {', '.join(PayloadFormat.values)}.")
    return value


def sealed_name(endpoint: WebhookEndpoint, what: str) -> str:
    """The associated data of a sealed value: a value copied onto another endpoint does not open."""
    return f"webhook {endpoint.pk} {what}"


def _seal(endpoint: WebhookEndpoint, what: str, value: str) -> str:
    try:
        return seal(value, name=sealed_name(endpoint, what))
    except CredentialUnavailable as exc:
        raise InvalidInput(f"Webhooks cannot be stored here: {exc}") from None


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _audit_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {field: getattr(endpoint, field) for field in _AUDIT_FIELDS}


@transaction.atomic
def webhook_endpoint_create(
    *, actor: Actor, url: str, events: list[str], format: str = PayloadFormat.FMGOV, active: bool = True
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint: (endpoint, secret). The secret is returned this once and stored sealed."""
    _ensure_admin(actor)
    url, origin = check_url(url)
    endpoint = WebhookEndpoint.objects.create(
        origin=origin,
        events=normalise_events(events),
        format=_check_format(format),
        active=bool(active),
        created_by=actor,
    )
    secret = _new_secret()
    endpoint.sealed_url = _seal(endpoint, "url", url)
    endpoint.sealed_secret = _seal(endpoint, "secret", secret)
    endpoint.save(update_fields=["sealed_url", "sealed_secret", "updated_at"])
    audit_record(
        action="webhook.create",
        actor=actor,
        obj=endpoint,
        changes=created({**_audit_view(endpoint), "secret": "set"}),
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: Actor,
    url: str | None = None,
    events: list[str] | None = None,
    format: str | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Point it elsewhere, change what it hears, switch it off or on (which forgets its failures)."""
    _ensure_admin(actor)
    obj = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    before = _audit_view(obj)
    if url is not None:
        url, obj.origin = check_url(url)
        obj.sealed_url = _seal(obj, "url", url)
    if events is not None:
        obj.events = normalise_events(events)
    if format is not None:
        obj.format = _check_format(format)
    if active is not None and bool(active) != obj.active:
        obj.active = bool(active)
        obj.consecutive_failures = 0
        obj.disabled_reason = "" if obj.active else f"Disabled by {getattr(actor, 'username', 'the system')}."
    changes = diff(before, _audit_view(obj))
    if not changes and url is None:
        return obj
    obj.save()
    audit_record(
        action="webhook.update",
        actor=actor,
        obj=obj,
        changes=changes,
        context={"url_changed": True} if url is not None else None,
    )
    return obj


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor: Actor) -> tuple[WebhookEndpoint, str]:
    """A new secret, returned this once; attempts from now on are signed with it, the old one stops verifying."""
    _ensure_admin(actor)
    obj = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = _new_secret()
    obj.sealed_secret = _seal(obj, "secret", secret)
    obj.save(update_fields=["sealed_secret", "updated_at"])
    audit_record(action="webhook.rotate_secret", actor=actor, obj=obj, context={"secret_rotated": True})
    return obj, secret


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send a delivery again, with the same delivery id (receivers dedupe on it) and a fresh round of attempts."""
    _ensure_admin(actor)
    obj = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if not WebhookEndpoint.objects.filter(pk=obj.endpoint_id, active=True).exists():
        raise Conflict("The endpoint is disabled; enable it before redelivering.")
    if obj.status == DeliveryStatus.PENDING:  # an attempt may be under way: two at once would race
        raise Conflict("This delivery is still being attempted; redeliver it once it has succeeded or failed.")
    before = {"status": obj.status, "attempts": obj.attempts}
    obj.status, obj.attempts, obj.next_attempt_at, obj.error = DeliveryStatus.PENDING, 0, timezone.now(), ""
    obj.save(update_fields=["status", "attempts", "next_attempt_at", "error", "updated_at"])
    audit_record(
        action="webhook.redeliver",
        actor=actor,
        obj=obj,
        changes=diff(before, {"status": obj.status, "attempts": obj.attempts}),
        context={"endpoint": obj.endpoint_id, "event_type": obj.event_type, "audit_seq": obj.audit_seq},
    )
    _enqueue(obj)
    return obj


def _enqueue(delivery: WebhookDelivery) -> None:
    from fmgov.webhooks.tasks import deliver_webhook

    enqueue_on_commit(deliver_webhook, str(delivery.pk))


def deliveries_create(*, event_type: str, reference: dict[str, Any]) -> list[WebhookDelivery]:
    """One delivery per active endpoint that hears this event, in the caller's (the audit event's) transaction."""
    active = WebhookEndpoint.objects.filter(active=True).only("id", "events", "format")
    endpoints = [e for e in active if e.subscribes_to(event_type)]
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery_id = uuid.uuid4()
        delivery = WebhookDelivery.objects.create(
            id=delivery_id,
            endpoint=endpoint,
            event_type=event_type,
            audit_seq=reference["sequence"],
            audit_hash=reference["hash"],
            payload=build_payload(
                delivery_id=str(delivery_id), event_type=event_type, reference=reference, fmt=endpoint.format
            ),
            next_attempt_at=now,
        )
        _enqueue(delivery)
        deliveries.append(delivery)
    return deliveries


def deliveries_sweep(*, limit: int = 500) -> int:
    """Re-enqueue pending deliveries overdue by a minute: their task was lost (a crash after the commit)."""
    from fmgov.webhooks.tasks import deliver_webhook

    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now() - SWEEP_GRACE
    ).values_list("pk", flat=True)[:limit]
    ids = [str(pk) for pk in due]
    for delivery_id in ids:
        deliver_webhook.delay(delivery_id)
    return len(ids)
