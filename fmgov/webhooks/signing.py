"""Signing a webhook body, and the receiver's check (the README's snippet is ``verify_signature`` verbatim).

The signature is ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{raw body}"``
under the endpoint's secret. The timestamp is in the signed text, so a
receiver that refuses stale timestamps also refuses a replayed old delivery.
"""

import hashlib
import hmac
import re
import time

__all__ = ["SIGNATURE_PREFIX", "sign", "verify_signature"]

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Fmgov-Signature value for this body sent at this timestamp (Unix seconds, as text)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, header: str, now: float | None = None, tolerance: int = 300
) -> bool:
    """True only if `header` signs `timestamp` + `body` under `secret` and the timestamp is fresh.

    secret: the endpoint's secret (str); timestamp: the X-Fmgov-Timestamp header (str);
    body: the raw request body (bytes, before any JSON parsing); header: X-Fmgov-Signature.
    """
    if not isinstance(timestamp, str) or not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    # compare_digest raises on non-ASCII text: a forged header must be a False, not a crash of the receiver.
    return isinstance(header, str) and header.isascii() and hmac.compare_digest("sha256=" + mac.hexdigest(), header)
