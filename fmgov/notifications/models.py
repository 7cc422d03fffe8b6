"""The e-mail ledger: which message went to whom, once.

Notification tasks are acknowledged late, so a worker that dies mid-send has
its message delivered again. The ledger, keyed by the task message's id and
the recipient, lets the redelivered task skip the e-mails already sent and
send only the rest.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["EmailDelivery"]


class EmailDelivery(models.Model):
    key = models.CharField(
        _("key"), max_length=255, help_text=_("The id of the task message that sends it; the same on redelivery.")
    )
    recipient = models.EmailField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=998)
    task_name = models.CharField(_("task"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(
        _("claimed at"), null=True, blank=True, help_text=_("When a worker last started sending it.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["key", "recipient"], name="email_delivery_once_per_recipient")]

    def __str__(self) -> str:
        state = f"sent {self.sent_at:%Y-%m-%d %H:%M}" if self.sent_at else "not sent"
        return f"{self.subject} → {self.recipient} ({state})"
