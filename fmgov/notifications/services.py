"""Send notification e-mails at most once per task message and recipient.

A notification task may run twice for one message: acknowledged late, it is
redelivered if its worker dies, and a failed SMTP call is retried. Each
recipient's message is claimed before it is sent and marked sent after, so a
second run sends only what the first did not. The one window left is a worker
dying between the SMTP server accepting a message and the ledger recording
it; then that one recipient may get it twice, which beats losing it.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from fmgov.notifications.models import EmailDelivery

__all__ = ["auditor_email", "email_send_once", "CLAIM_LEASE"]

logger = logging.getLogger(__name__)

# Longer than any SMTP exchange: a claim older than this belongs to a worker that died.
CLAIM_LEASE = timedelta(minutes=10)


def _claim(delivery: EmailDelivery) -> bool:
    """True if this worker may send it: not sent, and not being sent by a live worker."""
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE)
    return bool(
        EmailDelivery.objects.filter(pk=delivery.pk, sent_at__isnull=True)
        .filter(claimable)
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def email_send_once(
    *,
    key: str | None,
    subject: str,
    body: str,
    recipients: Iterable[str],
    task_name: str = "",
    from_email: str | None = None,
) -> int:
    """Send one message to each recipient not yet sent it under ``key``; return how many were sent now.

    ``key`` is the task message's id; without one (a direct call) every recipient is sent to.
    A failed send releases its claim and raises, so the task's retry picks the recipient up again.
    """
    key = key or f"direct-{uuid.uuid4().hex}"
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    sent = 0
    for recipient in sorted({r for r in recipients if r}):
        delivery, _ = EmailDelivery.objects.get_or_create(
            key=key, recipient=recipient, defaults={"subject": subject[:998], "task_name": task_name}
        )
        if not _claim(delivery):
            logger.info("e-mail %s to %s already sent or being sent; skipped", key, recipient)
            continue
        try:
            EmailMessage(subject, body, from_email, [recipient]).send()
        except Exception:
            EmailDelivery.objects.filter(pk=delivery.pk).update(claimed_at=None)
            raise
        EmailDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
        sent += 1
    return sent


def auditor_email(*, key: str, subject: str, body: str) -> int:
    """E-mail every active auditor with an address, once per ``key`` (audit checkpoints go to them as a witness)."""
    from django.contrib.auth import get_user_model

    from fmgov.core.roles import Role

    users = get_user_model().objects.filter(is_active=True, groups__name=Role.AUDITOR).exclude(email="")
    recipients = list(users.values_list("email", flat=True))
    if not recipients:
        raise ValueError("No active auditor has an e-mail address.")
    return email_send_once(key=key, subject=subject, body=body, recipients=recipients, task_name="audits")
