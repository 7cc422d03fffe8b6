"""Reading the development outbox: the messages the outbox backend wrote, newest first.

Only files the backend names (``<UTC time>-<hex>.eml``) are read, so a name taken
from a URL can never reach outside the outbox directory.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.conf import settings

from fmgov.notifications.backends import OUTBOX_BACKEND, outbox_dir

__all__ = ["OutboxMessage", "outbox_in_use", "outbox_message_names", "outbox_message", "OUTBOX_NAME"]

OUTBOX_NAME = re.compile(r"^(?P<time>\d{8}T\d{12}Z)-[0-9a-f]{12}\.eml$")


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    written_at: datetime
    to: str
    subject: str
    sender: str
    body: str


def outbox_in_use() -> bool:
    """Only the development backend keeps mail; with SMTP there is nothing to show."""
    return settings.EMAIL_BACKEND == OUTBOX_BACKEND


def outbox_message_names() -> list[str]:
    """File names of the kept messages, newest first (the names sort by the time they were written)."""
    if not outbox_in_use():
        return []
    directory = outbox_dir()
    if not directory.is_dir():
        return []
    return sorted((p.name for p in directory.iterdir() if OUTBOX_NAME.match(p.name)), reverse=True)


def outbox_message(name: str, *, with_body: bool = True) -> OutboxMessage:
    """One kept message; ``LookupError`` for a name the backend did not write or a file since removed."""
    match = OUTBOX_NAME.match(name)
    if not outbox_in_use() or not match:
        raise LookupError(name)
    try:
        raw = (outbox_dir() / name).read_bytes()
    except FileNotFoundError as exc:
        raise LookupError(name) from exc
    parsed: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw, headersonly=not with_body)
    body = ""
    if with_body:
        part = parsed.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part is not None else ""
    return OutboxMessage(
        name=name,
        written_at=datetime.strptime(match["time"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC),
        to=str(parsed.get("To", "")),
        subject=str(parsed.get("Subject", "")),
        sender=str(parsed.get("From", "")),
        body=body,
    )
