# ruff: noqa: S608, S611 -- only table and column names from model _meta are interpolated; values are parameters.
"""Stored lineage: for every adaptation, the foundation models it rests on, how far below each and its share.

Why a table: the questions asked most often ("what rests on this model?", "which
providers does this deployment depend on, and how much?") become index scans
instead of recursive walks. A closure table (every ancestor of every node) would
hold tens of millions of rows on a 100,000-adaptation DAG with fan-in, and an
edge near the top would write ancestors x descendants rows; this table holds
one row per (adaptation, root foundation model), usually one or two.

``depth`` is the shortest distance from the model down to the adaptation;
``weight`` is the adaptation's lineage share in the model (each adaptation
splits its weight equally among its parents, so the weights of one adaptation
sum to 1). ``lineage_parents_written`` keeps the table right: the adaptation
services call it right after they write an adaptation's parent edges, in the
same transaction, and it recomputes the adaptation and everything downstream
(a new adaptation has nothing downstream: a few small queries). Bulk loads
(benchmarks, ``seed_scale``) call ``lineage_rebuild`` once at the end.
"""

from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

__all__ = ["LineageRoot", "compute_roots", "lineage_parents_written", "lineage_rebuild"]

# Taken by every maintenance call (PostgreSQL), after the caller's row locks: two concurrent edits of the
# DAG then recompute one after the other, each seeing what the other committed. (SQLite serialises writers.)
LINEAGE_STORE_LOCK_KEY = 0x666D676F76_02

Roots = dict[int, tuple[int, float]]  # foundation model id -> (depth, weight)
Parents = dict[int, list[tuple[str, int]]]  # adaptation id -> [("m" | "a", parent id)]


class LineageRoot(models.Model):
    """One adaptation and one foundation model it rests on: derived data, rebuilt from the edges."""

    adaptation = models.ForeignKey(
        "registry.Adaptation", on_delete=models.CASCADE, related_name="lineage_roots", verbose_name=_("adaptation")
    )
    foundation_model = models.ForeignKey(
        "registry.FoundationModel",
        on_delete=models.CASCADE,
        related_name="lineage_roots",
        verbose_name=_("foundation model"),
    )
    depth = models.PositiveIntegerField(_("depth"))
    weight = models.FloatField(_("weight"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage root")
        constraints = [models.UniqueConstraint(fields=["adaptation", "foundation_model"], name="lineage_root_unique")]
        # Descendants of a model, nearest first, read from the index alone.
        indexes = [models.Index(fields=["foundation_model", "depth", "adaptation"], name="lineage_root_model_depth")]

    def __str__(self) -> str:
        return f"{self.adaptation_id} rests on {self.foundation_model_id} ({self.weight:.3f}, depth {self.depth})"


def _combine(edges_of: list[tuple[str, int]], memo: dict[int, Roots]) -> Roots:
    own: Roots = {}
    share = 1.0 / len(edges_of)
    for kind, parent in edges_of:
        items = [(parent, (0, 1.0))] if kind == "m" else memo.get(parent, {}).items()
        for model_id, (depth, weight) in items:
            old_depth, old_weight = own.get(model_id, (depth + 1, 0.0))
            own[model_id] = (min(old_depth, depth + 1), old_weight + share * weight)
    return own


def compute_roots(parents: Parents, known: dict[int, Roots] | None = None) -> dict[int, Roots]:
    """Roots of every adaptation in ``parents``, from its edges and the ``known`` roots of parents outside it.

    An iterative post-order walk, so a deep chain does not hit the recursion
    limit. A parent neither in ``parents`` nor in ``known`` contributes nothing,
    and a cycle (rows written by hand) ends the walk instead of looping.
    """
    memo: dict[int, Roots] = dict(known or {})
    entered: set[int] = set()
    for node in parents:
        stack = [node]
        while stack:
            current = stack[-1]
            if current in memo:
                stack.pop()
            elif current in entered:  # its parents are done (or it closes a cycle): compute it
                stack.pop()
                memo[current] = _combine(parents[current], memo) if parents[current] else {}
            else:
                entered.add(current)
                stack.extend(p for k, p in parents[current] if k == "a" and p in parents and p not in memo)
    return {node: memo[node] for node in parents}


def _edges_table() -> str:
    from fmgov.registry.models import AdaptationParent

    return AdaptationParent._meta.db_table


def _subtree_sql() -> str:
    """The adaptation (param 1) and everything below it (param 2), once each."""
    edges = _edges_table()
    return (
        f"WITH RECURSIVE below(adaptation_id) AS ("
        f" SELECT CAST(%s AS bigint) UNION SELECT e.child_id FROM {edges} e"
        f" JOIN below ON e.parent_adaptation_id = below.adaptation_id"
        f") SELECT adaptation_id FROM below"
    )


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINEAGE_STORE_LOCK_KEY])


def _parents_of(rows: Iterable[tuple[int, int | None, int | None]]) -> Parents:
    parents: Parents = {}
    for child, parent_model, parent_adaptation in rows:
        edge = ("m", int(parent_model)) if parent_model is not None else ("a", int(parent_adaptation))
        parents.setdefault(int(child), []).append(edge)
    return parents


def _write(roots: dict[int, Roots]) -> int:
    rows = [
        LineageRoot(adaptation_id=node, foundation_model_id=model_id, depth=depth, weight=weight)
        for node, per_model in roots.items()
        for model_id, (depth, weight) in per_model.items()
    ]
    LineageRoot.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def lineage_parents_written(adaptation_id: int) -> None:
    """Recompute the stored roots of an adaptation whose parents were just written, and of all below it.

    Runs in the caller's transaction, so the table rolls back with the edges.
    """
    _lock()
    edges = _edges_table()
    subtree = _subtree_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH nodes AS ({subtree}) SELECT child_id, parent_model_id, parent_adaptation_id FROM {edges}"
            " WHERE child_id IN (SELECT adaptation_id FROM nodes)",
            [adaptation_id],
        )
        parents = _parents_of(cursor.fetchall())
        parents.setdefault(int(adaptation_id), [])
        cursor.execute(
            f"WITH nodes AS ({subtree}) SELECT r.adaptation_id, r.foundation_model_id, r.depth, r.weight"
            f" FROM {LineageRoot._meta.db_table} r WHERE r.adaptation_id IN ("
            f" SELECT e.parent_adaptation_id FROM {edges} e WHERE e.child_id IN (SELECT adaptation_id FROM nodes))"
            " AND r.adaptation_id NOT IN (SELECT adaptation_id FROM nodes)",
            [adaptation_id],
        )
        known: dict[int, Roots] = {}
        for node, model_id, depth, weight in cursor.fetchall():
            known.setdefault(int(node), {})[int(model_id)] = (int(depth), float(weight))
    LineageRoot.objects.filter(adaptation_id__in=RawSQL(subtree, [adaptation_id])).delete()
    _write(compute_roots(parents, known))


def lineage_rebuild() -> dict[str, Any]:
    """Recompute the whole table from the edges: after bulk inserts that bypassed the services."""
    from fmgov.registry.models import AdaptationParent

    _lock()
    rows = AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id")
    parents = _parents_of(rows.iterator(chunk_size=20_000))
    LineageRoot.objects.all().delete()
    return {"adaptations": len(parents), "rows": _write(compute_roots(parents))}
