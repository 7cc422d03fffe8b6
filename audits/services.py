"""Writing to the audit trail: the one recording service every app calls.

``audit_record`` must run inside the transaction of the change it records, so
both commit or neither does. Appends are serialised by locking the single
``ChainHead`` row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every
transaction already holds the write lock from BEGIN IMMEDIATE), so concurrent
writers never fork the chain and sequence numbers have no gaps.
"""

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from audits.canonical import GENESIS_HASH, canonical_bytes, format_timestamp, stored_form
from audits.changes import InvalidChanges, changed, check_changes, created, deleted, diff
from audits.context import current_context
from audits.events import audit_event_recorded
from audits.models import AuditEvent, ChainHead

__all__ = [
    "InvalidChanges",
    "audit_record",
    "changed",
    "checkpoint_create",
    "created",
    "deleted",
    "diff",
    "lock_chain_head",
    "snapshot",
]


class AuditOutsideTransaction(RuntimeError):
    """audit_record was called with no transaction open."""


def _jsonable(value: Any) -> Any:
    """Normalise to plain JSON types so that the stored value hashes the same when read back."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, allow_nan=False))


def _fits(text: str, limit: int) -> str:
    """Cut ``text`` so that its stored form (NUL spelled out) still fits a column of ``limit`` characters."""
    text = text[:limit]
    while len(stored_form(text)) > limit:
        text = text[:-1]
    return text


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """Field values of a model instance, foreign keys as ids, for before/after changes."""
    values: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in ("created_at", "updated_at"):
            continue
        values[field.name] = field.value_from_object(obj)
    return _jsonable(values)


def lock_chain_head(using: str = "default") -> ChainHead:
    """Lock the single chain-head row until the transaction ends (see AuditedQuerySet.select_for_update)."""
    head, _ = (
        ChainHead.objects.using(using)
        .select_for_update()
        .get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    )
    return head


def audit_record(
    *,
    action: str,
    actor=None,
    system: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    ``changes`` is ``{field: [old, new]}`` only (see audits.changes); notes that are not field changes go in
    ``context``. Any other shape raises InvalidChanges before anything is written.
    """
    changes = check_changes(changes)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction("audit_record must be called inside the transaction of the change it records.")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    merged_context = {**current_context(), **(context or {})}
    if not system and actor is None:
        system = merged_context.get("celery_task") or "system"

    head = lock_chain_head()
    values = {
        "seq": head.seq + 1,
        "timestamp": timezone.now(),
        "actor_id": actor.pk if actor else None,
        "actor_username": getattr(actor, "username", "") if actor else "",
        "actor_system": system,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id or ""),
        "object_repr": _fits(str(object_repr), 300),
        "changes": _jsonable(changes),
        "context": _jsonable(merged_context),
        "prev_hash": head.hash,
    }
    # The bytes hashed are the bytes stored; the columns hold what PostgreSQL accepts of the same values.
    data = canonical_bytes({**values, "timestamp": format_timestamp(values["timestamp"])})
    columns = {name: stored_form(value) for name, value in values.items() if name != "timestamp"}
    event = AuditEvent(
        **columns,
        timestamp=values["timestamp"],
        canonical=data,
        hash=hashlib.sha256(head.hash.encode("ascii") + data).hexdigest(),
    )
    event.save()
    head.seq = event.seq
    head.hash = event.hash
    head.save(update_fields=["seq", "hash"])
    audit_event_recorded.send(sender=AuditEvent, event=event)  # in this transaction: see audits/events.py
    return event


# Checkpoints are signed where the signing key is (audits/checkpoints.py); re-exported for callers of this module.
from audits.checkpoints import checkpoint_create  # noqa: E402
