"""Webhook delivery limits, from settings, else the environment, else safe defaults."""

import os

from django.conf import settings

__all__ = [
    "max_attempts",
    "retry_base_seconds",
    "retry_max_seconds",
    "disable_after_failures",
    "attempt_deadline_seconds",
    "max_response_bytes",
]


def _setting(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return float(value)


def max_attempts() -> int:
    """Attempts of one delivery before it is marked failed (WEBHOOK_MAX_ATTEMPTS)."""
    return max(1, int(_setting("WEBHOOK_MAX_ATTEMPTS", 8)))


def retry_base_seconds() -> float:
    """The first back-off; each further failure doubles it (WEBHOOK_RETRY_BASE_SECONDS)."""
    return max(0.0, _setting("WEBHOOK_RETRY_BASE_SECONDS", 30))


def retry_max_seconds() -> float:
    """The longest back-off; under the broker's visibility timeout (WEBHOOK_RETRY_MAX_SECONDS)."""
    return max(0.0, _setting("WEBHOOK_RETRY_MAX_SECONDS", 3600))


def disable_after_failures() -> int:
    """Consecutive failed attempts (over all its deliveries) that switch an endpoint off (WEBHOOK_DISABLE_AFTER)."""
    return max(1, int(_setting("WEBHOOK_DISABLE_AFTER", 15)))


def attempt_deadline_seconds() -> float:
    """One attempt's whole budget: connect, send, read (WEBHOOK_DEADLINE_SECONDS; never above EGRESS_DEADLINE_S)."""
    return max(0.5, _setting("WEBHOOK_DEADLINE_SECONDS", 10))


def max_response_bytes() -> int:
    """A receiver's answer is read (and thrown away) up to this size (WEBHOOK_MAX_RESPONSE_BYTES)."""
    return max(1024, int(_setting("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024)))
