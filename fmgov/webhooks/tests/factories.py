"""Webhook test data, made through the services (so endpoints are sealed and audited as in production)."""

from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.services import webhook_endpoint_create

__all__ = ["make_endpoint", "deliver_due"]


def make_endpoint(admin, url: str, events: list[str] | None = None, **kwargs) -> tuple[WebhookEndpoint, str]:
    return webhook_endpoint_create(actor=admin, url=url, events=events or ["*"], **kwargs)


def deliver_due(limit: int = 20) -> int:
    """Run due pending deliveries in this process until none is due (the worker's job, without a worker)."""
    from fmgov.webhooks.delivery import delivery_attempt

    attempts = 0
    while attempts < limit:
        pending = WebhookDelivery.objects.filter(status="pending").order_by("created_at", "audit_seq")
        due = [str(pk) for pk in pending.values_list("pk", flat=True)]
        outcomes = [delivery_attempt(pk) for pk in due]
        attempts += len(due)
        if not any(o.status in ("succeeded", "failed", "retrying") for o in outcomes):
            break
    return attempts
