"""Development e-mail: one ``.eml`` file per message in the outbox, and one line on the console.

Django's console backend prints every message in full, which buries `make run`'s
own output under some 1,600 lines on the first run; its file backend appends all
messages of a connection to one file, which is awkward to read one by one. This
backend writes each message to a file of its own in ``EMAIL_FILE_PATH`` (read on
the admins' Outbox page) and logs one line per message: to whom, and the subject.
"""

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.utils import timezone

__all__ = ["OutboxEmailBackend", "OUTBOX_BACKEND", "outbox_dir", "LOGGER_NAME"]

OUTBOX_BACKEND = "fmgov.notifications.backends.OutboxEmailBackend"
# Configured at INFO in settings.LOGGING, so the line shows even when Celery runs at WARNING.
LOGGER_NAME = "fmgov.notifications.outbox"
logger = logging.getLogger(LOGGER_NAME)


def outbox_dir(file_path: str | os.PathLike | None = None) -> Path:
    """The outbox directory: the backend's ``file_path`` or ``EMAIL_FILE_PATH``; never a guessed default."""
    path = file_path or getattr(settings, "EMAIL_FILE_PATH", None)
    if not path:
        raise ImproperlyConfigured("The outbox e-mail backend needs EMAIL_FILE_PATH (a directory).")
    return Path(path)


class OutboxEmailBackend(BaseEmailBackend):
    """Keep each message as ``<UTC time>-<random>.eml``: the names sort by time, and no two collide."""

    def __init__(self, *, file_path: str | os.PathLike | None = None, fail_silently: bool = False, **kwargs) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.directory = outbox_dir(file_path)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                self._write(message)
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            logger.info("mail to %s: %s", ", ".join(message.recipients()), message.subject)
            sent += 1
        return sent

    def _write(self, message: EmailMessage) -> Path:
        """Written under a temporary name and renamed, so the Outbox never shows half a message."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{timezone.now():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}.eml"
        final = self.directory / name
        partial = self.directory / f".{name}.part"
        partial.write_bytes(message.message().as_bytes(linesep="\n"))
        os.replace(partial, final)
        return final
