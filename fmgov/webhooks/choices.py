"""Webhook event types, the audit actions they come from, payload formats and delivery states."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ALL_EVENTS", "EVENT_FROM_ACTION", "EVENT_TYPES", "CHECKPOINT_EVENT", "DeliveryStatus", "PayloadFormat"]

#: Every event a receiver can subscribe to is derived from one audit action (or, for audit.checkpoint, from a
#: signed checkpoint of the chain head), so each delivery names the audit event it reports.
EVENT_FROM_ACTION: dict[str, str] = {
    "review.submit": "review.submitted",
    "review.approve": "review.approved",
    "signoff.approve": "signoff.recorded",
    "signoff.reject": "signoff.recorded",
    "signoff.abstain": "signoff.recorded",
    "deployment.go_live": "deployment.live",
    "deployment.suspend": "deployment.suspended",
    "finding.open": "finding.opened",
    "incident.open": "incident.opened",
    "report.complete": "report.succeeded",
}
CHECKPOINT_EVENT = "audit.checkpoint"
EVENT_TYPES: tuple[str, ...] = (*dict.fromkeys(EVENT_FROM_ACTION.values()), CHECKPOINT_EVENT)
ALL_EVENTS = "*"


class PayloadFormat(models.TextChoices):
    FMGOV = "fmgov", _("fmgov JSON")
    SLACK = "slack", _("Slack incoming webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
