"""The evidence settings, read when used (so tests and operators may change them without a restart of logic)."""

from django.conf import settings

__all__ = ["max_upload_bytes", "dossier_embed_bytes", "expiry_notice_days"]


def max_upload_bytes() -> int:
    """The largest file accepted (``EVIDENCE_MAX_UPLOAD_BYTES``, 25 MB by default)."""
    return int(getattr(settings, "EVIDENCE_MAX_UPLOAD_BYTES", 25 * 1024 * 1024))


def dossier_embed_bytes() -> int:
    """How many bytes of attachments a dossier embeds (``EVIDENCE_DOSSIER_EMBED_BYTES``, 200 MB by default)."""
    return int(getattr(settings, "EVIDENCE_DOSSIER_EMBED_BYTES", 200 * 1024 * 1024))


def expiry_notice_days() -> int:
    """Days before expiry the uploader is e-mailed (``EVIDENCE_EXPIRY_NOTICE_DAYS``, 30 by default)."""
    return int(getattr(settings, "EVIDENCE_EXPIRY_NOTICE_DAYS", 30))
