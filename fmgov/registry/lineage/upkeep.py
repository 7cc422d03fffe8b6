# ruff: noqa: S608, S611 -- only table and column names from model _meta are interpolated; values are parameters.
"""Upkeep of the stored lineage: its rows computed from the edges and written, per edit or all at once.

``lineage_parents_written`` runs in the transaction of the adaptation services
that wrote the edges; ``lineage_rebuild`` after bulk loads that bypassed them.
"""

from collections.abc import Iterable
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL

from fmgov.registry.lineage.models import REACH_HOPS, LineageBelow, LineageReach, LineageRoot

# Taken by every maintenance call (PostgreSQL), after the caller's row locks: two concurrent edits of the
# DAG then recompute one after the other, each seeing what the other committed. (SQLite serialises writers.)
LINEAGE_STORE_LOCK_KEY = 0x666D676F76_02

Roots = dict[int, tuple[int, float]]  # foundation model id -> (depth, weight)
Parents = dict[int, list[tuple[str, int]]]  # adaptation id -> [("m" | "a", parent id)]
Reach = dict[int, int]  # ancestor adaptation id -> shortest distance (1..REACH_HOPS)


def _combine(edges_of: list[tuple[str, int]], memo: dict[int, Roots]) -> Roots:
    own: Roots = {}
    share = 1.0 / len(edges_of)
    for kind, parent in edges_of:
        items = [(parent, (0, 1.0))] if kind == "m" else memo.get(parent, {}).items()
        for model_id, (depth, weight) in items:
            old_depth, old_weight = own.get(model_id, (depth + 1, 0.0))
            own[model_id] = (min(old_depth, depth + 1), old_weight + share * weight)
    return own


def _combine_reach(edges_of: list[tuple[str, int]], memo: dict[int, Reach]) -> Reach:
    own: Reach = {}
    for kind, parent in edges_of:
        if kind != "a":
            continue
        own[parent] = 1
        for ancestor, distance in memo.get(parent, {}).items():
            if distance < REACH_HOPS and own.get(ancestor, REACH_HOPS + 1) > distance + 1:
                own[ancestor] = distance + 1
    return own


def compute_roots(parents: Parents, known: dict[int, Roots] | None = None) -> dict[int, Roots]:
    """Roots of every adaptation in ``parents``, from its edges and the ``known`` roots of parents outside it.

    A parent neither in ``parents`` nor in ``known`` contributes nothing, and a
    cycle (rows written by hand) ends the walk instead of looping.
    """
    return _walk(parents, known, _combine)


def compute_reach(parents: Parents, known: dict[int, Reach] | None = None) -> dict[int, Reach]:
    """Adaptations at most ``REACH_HOPS`` above each adaptation in ``parents``, with their shortest distance.

    A parent is at 1, a parent's ancestor at its distance + 1; ``known`` holds
    the pairs of parents outside ``parents``.
    """
    return _walk(parents, known, _combine_reach)


def _walk(parents: Parents, known: dict[int, Any] | None, combine) -> dict[int, Any]:
    """Each node's value from its parents' values: an iterative post-order walk (no recursion limit)."""
    memo: dict[int, Any] = dict(known or {})
    entered: set[int] = set()
    for node in parents:
        stack = [node]
        while stack:
            current = stack[-1]
            if current in memo:
                stack.pop()
            elif current in entered:  # its parents are done (or it closes a cycle): compute it
                stack.pop()
                memo[current] = combine(parents[current], memo) if parents[current] else {}
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


def _copy(model: type[models.Model], columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
    """COPY rows into a table on PostgreSQL: a rebuild writes about a million, several times faster than INSERTs."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_COPY_ABOVE = 50_000  # rows; below it, ordinary INSERTs (and SQLite always)


def _write(roots: dict[int, Roots]) -> int:
    count = sum(len(per_model) for per_model in roots.values())
    triples = (
        (node, model_id, depth, weight)
        for node, per_model in roots.items()
        for model_id, (depth, weight) in per_model.items()
    )
    if connection.vendor == "postgresql" and count > _COPY_ABOVE:
        _copy(LineageRoot, ("adaptation_id", "foundation_model_id", "depth", "weight"), triples)
    else:
        rows = (LineageRoot(adaptation_id=a, foundation_model_id=m, depth=d, weight=w) for a, m, d, w in triples)
        LineageRoot.objects.bulk_create(rows, batch_size=5000)
    return count


def _write_reach(reach: dict[int, Reach]) -> int:
    count = sum(len(above) for above in reach.values())
    triples = ((node, ancestor, distance) for node, above in reach.items() for ancestor, distance in above.items())
    if connection.vendor == "postgresql" and count > _COPY_ABOVE:
        _copy(LineageReach, ("descendant_id", "ancestor_id", "distance"), triples)
    else:
        rows = (LineageReach(descendant_id=d, ancestor_id=a, distance=n) for d, a, n in triples)
        LineageReach.objects.bulk_create(rows, batch_size=5000)
    return count


def _near_below(parents: Parents, start: int) -> set[int]:
    """``start`` and the nodes of its subtree (``parents``) fewer than REACH_HOPS levels below it."""
    children: dict[int, list[int]] = {}
    for child, edges_of in parents.items():
        for kind, parent in edges_of:
            if kind == "a":
                children.setdefault(parent, []).append(child)
    near, frontier = {start}, [start]
    for _level in range(REACH_HOPS - 1):
        frontier = [c for node in frontier for c in children.get(node, ()) if c not in near]
        near.update(frontier)
    return near


def _below_rows(pairs: Iterable[tuple[int, int, int]]) -> dict[int, list[list[int]]]:
    """(ancestor, distance, descendant) triples grouped by ancestor: each ancestor's descendants per level."""
    below: dict[int, list[list[int]]] = {}
    for ancestor, distance, node in pairs:
        levels = below.get(ancestor)
        if levels is None:
            levels = below[ancestor] = [[] for _level in range(REACH_HOPS)]
        levels[distance - 1].append(node)
    return below


def _levels_text(levels: list[list[int]]) -> str:
    return ";".join("".join(f"{node:016x}" for node in sorted(nodes)) for nodes in levels)


def _write_below(below: dict[int, list[list[int]]]) -> int:
    rows = ((ancestor, _levels_text(levels), sorted(levels[-1])) for ancestor, levels in below.items())
    if connection.vendor == "postgresql" and len(below) > _COPY_ABOVE:
        _copy(LineageBelow, ("adaptation_id", "levels", "frontier"), rows)
    else:
        objects = (LineageBelow(adaptation_id=ancestor, levels=text, frontier=last) for ancestor, text, last in rows)
        LineageBelow.objects.bulk_create(objects, batch_size=5000)
    return len(below)


def _recompute_reach(parents: Parents, adaptation_id: int) -> None:
    """The pairs whose shortest path may run through the adaptation's parent edges, recomputed.

    Such a path is at least 1 + the distance below the adaptation, so only the
    adaptation and the nodes fewer than REACH_HOPS below it have pairs that can
    change; their parents outside that set keep theirs, read as known. The
    grouped rows of every ancestor of a pair deleted or written are regrouped.
    """
    near = _near_below(parents, adaptation_id)
    outside = {p for node in near for kind, p in parents.get(node, ()) if kind == "a" and p not in near}
    known: dict[int, Reach] = {}
    rows = LineageReach.objects.filter(descendant_id__in=near | outside).values_list(
        "descendant_id", "ancestor_id", "distance"
    )
    touched: set[int] = set()
    for node, ancestor, distance in rows:
        if node in near:
            touched.add(ancestor)
        else:
            known.setdefault(node, {})[ancestor] = distance
    LineageReach.objects.filter(descendant_id__in=near).delete()
    reach = compute_reach({node: parents.get(node, []) for node in near}, known)
    _write_reach(reach)
    touched.update(ancestor for above in reach.values() for ancestor in above)
    LineageBelow.objects.filter(adaptation_id__in=touched).delete()
    pairs = LineageReach.objects.filter(ancestor_id__in=touched).values_list("ancestor_id", "distance", "descendant_id")
    _write_below(_below_rows(pairs))


def lineage_parents_written(adaptation_id: int) -> None:
    """Recompute the stored lineage of an adaptation whose parents were just written, and of what is below it.

    The roots of it and all below it; the reach pairs of it and what lies fewer
    than REACH_HOPS below. Runs in the caller's transaction, so the tables roll
    back with the edges.
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
    _recompute_reach(parents, int(adaptation_id))


def lineage_rebuild() -> dict[str, Any]:
    """Recompute the three tables from the edges: after bulk inserts that bypassed the services."""
    from fmgov.registry.models import AdaptationParent

    _lock()
    rows = AdaptationParent.objects.values_list("child_id", "parent_model_id", "parent_adaptation_id")
    parents = _parents_of(rows.iterator(chunk_size=20_000))
    LineageRoot.objects.all().delete()
    LineageReach.objects.all().delete()
    LineageBelow.objects.all().delete()
    written = _write(compute_roots(parents))
    reach = compute_reach(parents)
    reach_rows = _write_reach(reach)
    pairs = ((ancestor, distance, node) for node, above in reach.items() for ancestor, distance in above.items())
    below_rows = _write_below(_below_rows(pairs))
    return {"adaptations": len(parents), "rows": written, "reach_rows": reach_rows, "below_rows": below_rows}
