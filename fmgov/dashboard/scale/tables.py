"""Writing a model's rows fast: ids reserved up front, COPY (executemany elsewhere), indexes and keys rebuilt once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.reviews.models import RiskReview, SignOff

if TYPE_CHECKING:
    from fmgov.dashboard.scale.registry import Sizes

BATCH = 5000  # rows per executemany (SQLite)


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys, ascending, taken from the table's sequence (PostgreSQL) or after its last id.

    On PostgreSQL another session may take ids in between: the list is then not
    contiguous, never shared. SQLite serialises writers, and an explicit id moves
    its AUTOINCREMENT counter on.
    """
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, column, count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        quoted = connection.ops.quote_name
        cursor.execute(f"SELECT COALESCE(MAX({quoted(column)}), 0) FROM {quoted(table)}")  # noqa: S608
        last = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        counter = cursor.fetchone()
    first = max(last, counter[0] if counter else 0) + 1
    return list(range(first, first + count))


class _Table:
    """One model's rows as tuples: the ``varying`` columns first, then every other column's constant value.

    A constant is taken from ``values`` or else the field's default, and
    prepared for the database once; ``auto_now`` stamps not given are the time
    the table was set up. A required field (no default, neither blank nor null)
    left out is refused here rather than written empty.
    """

    def __init__(self, model: type[models.Model], varying: tuple[str, ...], **values: Any) -> None:
        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        now = timezone.now()
        constant = []
        for name, field in fields.items():
            if name in varying or (field.primary_key and name not in values):
                continue
            if name in values:
                value = values[name]
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.has_default() or field.blank or field.null:
                value = field.get_default()
            else:
                raise ValueError(f"seed_scale: {model._meta.label}.{name} needs a value")
            constant.append((field.column, field.get_db_prep_save(value, connection)))
        self.columns = tuple(fields[name].column for name in varying) + tuple(c for c, _ in constant)
        self.constant = tuple(v for _, v in constant)

    def load(self, rows: Iterable[tuple]) -> int:
        """Write the rows (their varying values); returns how many."""
        constant = self.constant
        return _load(self.model, self.columns, (row + constant for row in rows))


def _load(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
    """COPY on PostgreSQL (a row costs a few microseconds); executemany in batches elsewhere.

    Values are what the database takes: JSON columns as JSON text, datetimes
    aware (turned into SQLite's text form here).
    """
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    count = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    adapt = connection.ops.adapt_datetimefield_value
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        batch: list[tuple] = []
        for row in rows:
            batch.append(tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row))
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _fewer_rows_than(model: type[models.Model], count: int) -> bool:
    """Whether the table holds fewer than ``count`` rows (reads at most that many)."""
    return model._default_manager.all()[:count].count() < count


@contextmanager
def _indexes_rebuilt(tables: list[type[models.Model]], *, when: bool) -> Iterator[None]:
    """On PostgreSQL and ``when``, the tables' secondary indexes dropped around a large load, then built again.

    A million audit events inserted one by one into the hash's two indexes
    (random keys) cost more than sorting them once; the same for the lineage
    pairs' index by ancestor. Same names and definitions from the catalogue; the
    primary key, and any unique constraint a foreign key leans on, stay. Inside
    the caller's transaction, so a failure restores them; the tables are locked
    (ACCESS EXCLUSIVE) until it commits: a seeding step, not something to run
    beside traffic. PostgreSQL refuses to drop an index of a table with checks
    still pending in the transaction: the audit trail has none (no foreign key,
    no AFTER trigger); the lineage tables' keys are dropped first (``_foreign_keys_checked_at_end``).
    """
    if connection.vendor != "postgresql" or not when:
        yield
        return
    names = [model._meta.db_table for model in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint c"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint f WHERE f.conindid = c.conindid AND f.contype = 'f')",
            [names],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)",
            [names],
        )
        indexes = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")  # sorts in memory; back at the commit
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
        for _, definition in indexes:
            cursor.execute(definition)


_LOADED = (FoundationModel, Adaptation, AdaptationParent, Deployment, RiskReview, SignOff, EvaluationRun, RunMetric)


def _lineage_models() -> list[type[models.Model]]:
    """Every table ``lineage_rebuild`` fills (the stored lineage's models), whatever their number."""
    return [m for m in apps.get_app_config("registry").get_models() if m.__module__ == LineageRoot.__module__]


@contextmanager
def _foreign_keys_checked_at_end(sizes: Sizes, *, alone: bool) -> Iterator[bool]:
    """On PostgreSQL, the loaded tables' foreign keys dropped first and added back at the end: one check each.

    Each row otherwise queues a deferred check run at the commit, one probe per
    row and key (some 4.5 million for a full seed, most of them the lineage
    reach pairs'); adding a key back checks the whole table in one join. Only when the
    seed at least doubles the registry (that check reads every row, old ones
    too), and only ``alone``, in a transaction of the seed's own: a caller's
    may hold checks still pending on a referenced table, and PostgreSQL refuses
    to drop a key then. Same names and definitions from the catalogue, in the
    seed's transaction, so a failure (or a row that does not match) restores them.
    """
    if not (alone and connection.vendor == "postgresql" and _fewer_rows_than(Adaptation, sizes.adaptations)):
        yield False
        return
    tables = [model._meta.db_table for model in (*_LOADED, *_lineage_models())]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield True
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


def _vacuum_lineage() -> None:
    """VACUUM ANALYZE the lineage tables (all of them), as autovacuum soon would after a bulk load.

    Their walks are index-only scans, which visit the table for every row until
    a vacuum marks its pages all-visible: measured straight after the load,
    below a node with 2,900 descendants that is 2,900 table visits more.
    """
    # VACUUM cannot run inside a transaction (a caller's, or a test's): then ANALYZE alone.
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for table in (model._meta.db_table for model in _lineage_models()):
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {connection.ops.quote_name(table)}")
