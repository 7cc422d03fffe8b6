"""Uploads refused by their size before they are read.

A request's ``Content-Length`` is checked before DRF or Django parse the body
(so an oversized multipart body is never spooled to disk), and an uploaded
file's ``size`` before ``read()``; reading then stops one byte past the limit,
in case a size was not what it claimed.
"""

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException

from fmgov.core.exceptions import InvalidInput

__all__ = ["PayloadTooLarge", "ensure_body_size", "read_upload", "human_size"]

# Multipart framing and the form fields around a file.
MULTIPART_SLACK_BYTES = 64 * 1024


class PayloadTooLarge(APIException):
    """413 with a message per field, like every other refusal of input."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def human_size(n: float) -> str:
    """20971520 -> '20 MiB' (for messages)."""
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.3g} {unit}"
    return f"{n / 1024:.3g} GiB"


def _content_length(request: Any) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return None


def ensure_body_size(request: Any, *, max_bytes: int | None, field: str) -> None:
    """Refuse (413) a request whose declared body is larger than ``max_bytes``; call before ``request.data``."""
    if not max_bytes:
        return
    length = _content_length(request)
    if length is None:
        message = "The Content-Length header is not a number."
        raise PayloadTooLarge({"detail": message, field: [message]})
    if length > max_bytes:
        message = f"The request body ({human_size(length)}) is larger than the {human_size(max_bytes)} accepted here."
        raise PayloadTooLarge({"detail": message, field: [message]})


def read_upload(upload: Any, *, max_bytes: int, field: str) -> bytes:
    """The bytes of an uploaded file, refused (400 on ``field``) by its size before it is read."""
    message = f"The file is larger than {human_size(max_bytes)}."
    if upload.size is not None and upload.size > max_bytes:
        raise InvalidInput(message, field_errors={field: [message]})
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidInput(message, field_errors={field: [message]})
    return data
