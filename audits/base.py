"""The base of every governance model, and the guard that keeps bulk writes off it.

``AuditedModel`` is the base of every model whose changes are governance
state. Its manager refuses ``QuerySet.update()``, ``delete()``,
``bulk_create()`` and ``bulk_update()`` unless the caller is a service that has
opened ``bulk_writes_recorded()`` and records the audit events itself: signals
never see those calls, so the trail would silently miss them.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import models

from fmgov.core.models import TimeStampedModel

__all__ = [
    "AuditedModel",
    "AuditedQuerySet",
    "bulk_writes_recorded",
    "bulk_writes_recorded_open",
    "UnrecordedBulkWrite",
]

_bulk_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("fmgov_bulk_allowed", default=False)


class UnrecordedBulkWrite(RuntimeError):
    """A bulk write on an audited model outside a service that records it."""


@contextmanager
def bulk_writes_recorded() -> Iterator[None]:
    """Allow bulk writes on audited models; the caller promises to record audit events."""
    token = _bulk_allowed.set(True)
    try:
        yield
    finally:
        _bulk_allowed.reset(token)


def bulk_writes_recorded_open() -> bool:
    """Whether the caller is inside ``bulk_writes_recorded()`` (for models that guard their own deletes)."""
    return _bulk_allowed.get()


def _refuse(operation: str, model) -> None:
    if not _bulk_allowed.get():
        raise UnrecordedBulkWrite(
            f"{operation} on {model._meta.label} bypasses the audit trail; "
            "call a service, or record the events inside bulk_writes_recorded()."
        )


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        _refuse("QuerySet.update()", self.model)
        return super().update(**kwargs)

    def delete(self):
        _refuse("QuerySet.delete()", self.model)
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        _refuse("bulk_create()", self.model)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        _refuse("bulk_update()", self.model)
        return super().bulk_update(objs, fields, *args, **kwargs)

    def select_for_update(self, *args, **kwargs):
        """Lock the audit chain head first, so every audited transaction takes its locks in one order.

        Every governance write ends by appending to the audit trail, which locks
        the chain-head row until commit. A transaction that recorded an event and
        then locks a domain row, against one that locked that row and then records
        an event, would deadlock on PostgreSQL. Taking the head first whenever a
        domain row is locked makes the order always "chain head, then rows".
        (SQLite needs nothing: BEGIN IMMEDIATE already serialises writers.)
        """
        from django.db import connections

        connection = connections[self.db]
        if connection.vendor == "postgresql" and connection.in_atomic_block:
            from audits.services import lock_chain_head

            lock_chain_head(using=self.db)
        return super().select_for_update(*args, **kwargs)

    def _update(self, values):
        # Model.save() reaches here for an UPDATE of a single row; that path is
        # how services write, so it stays open.
        return super()._update(values)


class AuditedModel(TimeStampedModel):
    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True
