"""Webhook endpoints admins register, and the log of deliveries to them.

An endpoint's URL and signing secret are sealed to the workers' key the way
endpoint credentials are (``fmgov.registry.credential_store``): a Slack
incoming-webhook URL is itself a secret, so the web process stores and shows
only the URL's origin. A delivery keeps what the log shows (status, attempts,
latency, response code, a policy-safe error) and never a response body.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.core.models import TimeStampedModel
from fmgov.webhooks.choices import DeliveryStatus, PayloadFormat

__all__ = ["WebhookEndpoint", "WebhookDelivery"]


class WebhookEndpoint(AuditedModel):
    origin = models.CharField(
        _("origin"), max_length=300, help_text=_("scheme://host[:port] of the URL; the full URL is sealed.")
    )
    sealed_url = models.TextField(_("sealed URL"), editable=False)
    sealed_secret = models.TextField(_("sealed signing secret"), editable=False)
    events = models.JSONField(_("events"), default=list)
    format = models.CharField(_("format"), max_length=10, choices=PayloadFormat.choices, default=PayloadFormat.FMGOV)
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failed attempts"), default=0)
    disabled_reason = models.CharField(_("why it was disabled"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("webhook endpoint")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} to {self.origin}"

    def subscribes_to(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class WebhookDelivery(TimeStampedModel):
    """One event for one endpoint; its id is the X-Fmgov-Delivery idempotency key, the same on every attempt."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event_type = models.CharField(_("event type"), max_length=40)
    audit_seq = models.BigIntegerField(_("audit event sequence"))
    audit_hash = models.CharField(_("audit event hash"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency of the last attempt (ms)"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code of the last attempt"), null=True, blank=True)
    error = models.CharField(_("error of the last attempt"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.audit_seq} to webhook {self.endpoint_id}"
