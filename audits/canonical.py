"""Canonical form and hashing of audit events. Keep in step with verify_export.py.

Canonical JSON: keys sorted, separators ``,`` and ``:`` with no whitespace,
non-ASCII characters kept as UTF-8 (``ensure_ascii=False``), NaN and infinity
refused. An event's canonical dict holds exactly ``HASHED_FIELDS``; timestamps
are ISO 8601 in UTC with microseconds (``2026-01-02T03:04:05.000006+00:00``).

    hash = sha256( prev_hash (64 lowercase hex chars, ASCII) || canonical_json(event) (UTF-8) )

The first event's ``prev_hash`` is ``GENESIS_HASH``.
"""

import datetime as dt
import hashlib
import json
from typing import Any

__all__ = ["GENESIS_HASH", "HASHED_FIELDS", "canonical_json", "chain_hash", "format_timestamp"]

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


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def chain_hash(prev_hash: str, event: dict[str, Any]) -> str:
    payload = prev_hash.encode("ascii") + canonical_json(event).encode("utf-8")
    return hashlib.sha256(payload).hexdigest()
