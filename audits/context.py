"""Who and where: the request or task context recorded on audit events.

Set by ``RequestContextMiddleware`` for web requests and by Celery signals for
tasks; read by ``audits.services.audit_record``.
"""

import contextvars
import uuid
from contextlib import contextmanager
from typing import Any

__all__ = ["current_context", "bind_context", "new_request_id"]

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("fmgov_audit_context", default=None)


def current_context() -> dict[str, Any]:
    return dict(_context.get() or {})


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def bind_context(**values: Any):
    """Add keys to the audit context for the duration of the block."""
    merged = {**(current_context()), **{k: v for k, v in values.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)
