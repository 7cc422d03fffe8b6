"""Where deliveries come from: the audit trail's events and its signed checkpoints (connected in apps.py).

Both receivers run inside the transaction that stores the event or the
checkpoint, so the deliveries commit with it (see audits/events.py). Actions
that no event type derives from cost one dictionary lookup.
"""

from audits.models import AuditEvent, Checkpoint
from fmgov.webhooks.choices import CHECKPOINT_EVENT, EVENT_FROM_ACTION
from fmgov.webhooks.payloads import checkpoint_reference, event_reference
from fmgov.webhooks.services import deliveries_create

__all__ = ["on_audit_event", "on_checkpoint_saved"]


def on_audit_event(sender, event: AuditEvent, **kwargs) -> None:
    event_type = EVENT_FROM_ACTION.get(event.action)
    if event_type is not None:
        deliveries_create(event_type=event_type, reference=event_reference(event))


def on_checkpoint_saved(sender, instance: Checkpoint, created: bool, raw: bool = False, **kwargs) -> None:
    """Checkpoints are written once, by checkpoint_create in its transaction (rows are append-only)."""
    if created and not raw:
        deliveries_create(event_type=CHECKPOINT_EVENT, reference=checkpoint_reference(instance))
