"""Celery tasks: the daily expiry sweep (beat) and the uploader's e-mail. Thin: load by id, call a service, send."""

from celery import shared_task

from fmgov.evidence.models import Attachment
from fmgov.notifications.services import email_send_once

__all__ = ["evidence_expiry_notices", "notify_attachment_expiry"]


@shared_task(name="fmgov.evidence.tasks.evidence_expiry_notices")
def evidence_expiry_notices() -> int:
    """Beat: uploaders hear of their attachments expiring within ``EVIDENCE_EXPIRY_NOTICE_DAYS``."""
    from fmgov.evidence.services import attachments_expiry_notices

    return attachments_expiry_notices()


@shared_task(bind=True, name="fmgov.evidence.tasks.notify_attachment_expiry")
def notify_attachment_expiry(self, attachment_id: int) -> int:
    """One e-mail per attachment, keyed by the attachment (not the task message), so it goes out once."""
    attachment = Attachment.objects.select_related("uploaded_by").filter(pk=attachment_id).first()
    if attachment is None or attachment.expires_on is None or not attachment.uploaded_by.email:
        return 0
    body = (
        f"The evidence file {attachment.name} (revision {attachment.revision}, SHA-256 {attachment.sha256}) "
        f"on {attachment.parent_label} expires on {attachment.expires_on:%Y-%m-%d}.\n"
        "Upload a renewed file of the same name in fmgov; it becomes the next revision and the old one is kept.\n"
    )
    return email_send_once(
        key=f"attachment:{attachment.pk}:expiry",
        task_name=self.name,
        subject=f"[fmgov] Evidence file {attachment.name} expires on {attachment.expires_on:%Y-%m-%d}",
        body=body,
        recipients=[attachment.uploaded_by.email],
    )
