"""Canonical form and hashing of audit events. Keep in step with verify_export.py.

Canonical JSON: keys sorted, separators ``,`` and ``:`` with no whitespace,
non-ASCII characters kept as UTF-8 (``ensure_ascii=False``) except lone
surrogates, which UTF-8 cannot hold and which are written as ``\\udxxx``;
control characters (``\\u0000`` included) escaped as ``json`` always does; NaN
and infinity refused. An event's canonical dict holds exactly
``HASHED_FIELDS``; timestamps are ISO 8601 in UTC with microseconds
(``2026-01-02T03:04:05.000006+00:00``).

    hash = sha256( prev_hash (64 lowercase hex chars, ASCII) || canonical_json(event) (UTF-8) )

The first event's ``prev_hash`` is ``GENESIS_HASH``. Each event stores these
exact bytes (``AuditEvent.canonical``); verification re-hashes them, so no
database's way of storing numbers or text can change what is checked. The
structured columns hold ``stored_form`` of the same values (what PostgreSQL
accepts) and must equal what the bytes say, compared with ``same_json``.
"""

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "HASHED_FIELDS",
    "canonical_bytes",
    "canonical_json",
    "chain_hash",
    "format_timestamp",
    "same_json",
    "stored_form",
]

GENESIS_HASH = hashlib.sha256(b"fmgov audit trail genesis v1").hexdigest()

HASHED_FIELDS = (
    "seq",
    "timestamp",
    "actor_id",
    "actor_username",
    "actor_system",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "context",
    "prev_hash",
)

_SURROGATE = re.compile("[\ud800-\udfff]")
# What PostgreSQL's text and jsonb refuse: NUL, and lone surrogates (not encodable in UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def canonical_json(value: Any) -> str:
    """Any value Python's json encodes, as one deterministic text that is always valid UTF-8."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(_escape, text) if _SURROGATE.search(text) else text


def canonical_bytes(value: Any) -> bytes:
    return canonical_json(value).encode("utf-8")


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    payload = prev_hash.encode("ascii") + canonical_bytes(event)
    return hashlib.sha256(payload).hexdigest()


def stored_form(value: Any) -> Any:
    """The value as the text and jsonb columns hold it: NUL and lone surrogates spelled ``\\uXXXX``.

    PostgreSQL refuses both in text and jsonb; the bytes keep the real value,
    the columns (for filtering and display) this escaped spelling.
    """
    if isinstance(value, str):
        return _UNSTORABLE.sub(_escape, value) if _UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {stored_form(k): stored_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stored_form(v) for v in value]
    return value


def _numbers_exact(value: Any) -> Any:
    """Numbers as exact decimals, tagged so ``true`` never equals ``1``: jsonb keeps a number's value, not its text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return ("number", Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if isinstance(value, dict):
        return {k: _numbers_exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_exact(v) for v in value]
    return ("other", repr(value))


def same_json(column: Any, expected: Any) -> bool:
    """Whether a column read back holds ``expected`` (a stored_form value): same types, same numbers.

    PostgreSQL's jsonb returns ``3.8e+25`` as ``38000000000000000000000000`` and
    ``-0.0`` as ``0.0``; those are the same number and pass, a changed value does not.
    """
    if canonical_json(column) == canonical_json(expected):
        return True
    return _numbers_exact(column) == _numbers_exact(expected)
