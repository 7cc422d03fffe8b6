"""The one shape of an audit event's ``changes``: ``{field: [old, new]}``.

Writers build it with ``diff``, ``created``, ``deleted`` or ``changed``; ``audit_record`` refuses anything else
(``check_changes``), so a second format cannot creep back in. Anything that is not a field change (a reason,
redacted kinds, counts, system notes) belongs in the event's ``context``. Readers go through ``change_pairs``,
which also understands the two shapes events were recorded in before this rule: the registry's
``{"before": {...}, "after": {...}}`` and bare ``{key: value}`` notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ABSENT",
    "ORIGIN_CONTEXT_KEYS",
    "InvalidChanges",
    "change_pairs",
    "changed",
    "check_changes",
    "context_notes",
    "created",
    "deleted",
    "diff",
]

# Where an event came from (the request or the Celery task), bound by the middleware and the task signals; the
# rest of an event's context is what the service noted (a reason, redacted kinds, counts).
ORIGIN_CONTEXT_KEYS = frozenset({"request_id", "ip", "user_agent", "celery_task_id", "celery_task"})


class _Absent:
    """A side an old event did not record (not the same as a recorded None)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class InvalidChanges(TypeError):
    """``changes`` given to audit_record is not ``{field: [old, new]}``: a programming error, not bad input."""


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Only the fields that changed, as {field: [before, after]}."""
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def created(snapshot: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A new object's fields, each set from nothing: {field: [None, value]}."""
    return {k: [None, v] for k, v in snapshot.items()}


def deleted(snapshot: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A removed object's fields, each going to nothing: {field: [value, None]}."""
    return {k: [v, None] for k, v in snapshot.items()}


def changed(**fields: tuple[Any, Any]) -> dict[str, list[Any]]:
    """Explicit pairs, ``changed(state=(old, new))``, checked to be pairs at the call site."""
    return {k: list(pair) for k, pair in check_changes(fields).items()}


def check_changes(changes: Any) -> dict[str, Any]:
    """Return ``changes`` if it is a mapping of field name -> [old, new]; raise InvalidChanges otherwise."""
    if changes is None:
        return {}
    if not isinstance(changes, Mapping):
        raise InvalidChanges(f"changes must be a mapping of field -> [old, new], not {type(changes).__name__}.")
    for key, value in changes.items():
        if not isinstance(key, str) or not key:
            raise InvalidChanges(f"changes keys must be field names, not {key!r}.")
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise InvalidChanges(
                f"changes[{key!r}] must be [old, new]; put notes that are not field changes in context= "
                f"(got {type(value).__name__})."
            )
    return dict(changes)


def change_pairs(changes: Any) -> list[tuple[str, Any, Any]]:
    """(field, old, new) per change, sorted by field, for any recorded shape; ABSENT marks a side not recorded.

    Old events may hold ``{"before": {...}, "after": {...}}`` (either side alone, possibly beside other keys) or
    bare values; a bare value is read as the new side with no old side.
    """
    if not isinstance(changes, Mapping):
        return [("", ABSENT, changes)] if changes else []
    before, after = changes.get("before", {}), changes.get("after", {})
    legacy = ("before" in changes or "after" in changes) and isinstance(before, Mapping) and isinstance(after, Mapping)
    rows: list[tuple[str, Any, Any]] = []
    rest: Mapping[str, Any] = changes
    if legacy:
        rows.extend((k, before.get(k, ABSENT), after.get(k, ABSENT)) for k in set(before) | set(after))
        rest = {k: v for k, v in changes.items() if k not in ("before", "after")}
    for key, value in rest.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            rows.append((key, value[0], value[1]))
        else:
            rows.append((key, ABSENT, value))
    return sorted(rows, key=lambda row: row[0])


def context_notes(context: Any) -> dict[str, Any]:
    """The notes a service put in an event's context, without the request or task it came from."""
    if not isinstance(context, Mapping):
        return {}
    return {k: v for k, v in context.items() if k not in ORIGIN_CONTEXT_KEYS}
