"""Webhook tasks (the ``webhooks`` queue): take an id, call the delivery service, schedule the retry."""

from celery import shared_task

__all__ = ["deliver_webhook", "sweep_webhook_deliveries"]


@shared_task(name="fmgov.webhooks.tasks.deliver_webhook", acks_late=True, soft_time_limit=120, time_limit=150)
def deliver_webhook(delivery_id: str) -> str:
    from fmgov.webhooks.delivery import delivery_attempt

    outcome = delivery_attempt(delivery_id)
    if outcome.retry_in is not None:
        deliver_webhook.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@shared_task(name="fmgov.webhooks.tasks.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    from fmgov.webhooks.services import deliveries_sweep

    return deliveries_sweep()
