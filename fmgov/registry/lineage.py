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

``LineageReach`` answers "what is below this adaptation, how far down?" without
probing the edges once per node: it holds every pair of adaptations at most
``REACH_HOPS`` apart with their shortest distance (a closure table cut at 8
hops: about eleven rows per adaptation on the benchmark DAG, instead of the
full closure's ~160). A walk below an adaptation then jumps 8 levels per index
probe (``descendants_below``): a descendant's shortest distance is the best
``8j + d`` over the nodes at exactly ``8j`` on the way, since the first ``8j``
steps of a shortest path are a shortest path. A changed parent edge of C can
only change pairs whose shortest path runs through C, so only C and what lies
fewer than 8 levels below it are recomputed, in the same transaction.

``LineageBelow`` holds the same pairs grouped by ancestor: one row per
adaptation with something below it, its descendants 1..8 levels down as text,
one ``;``-separated part per level, each id as 16 hex digits (big-endian
64 bits: a level of one row, or of all rows joined, is one ``bytes.fromhex``
into an array of ids, which took a quarter of the time ``json.loads`` of
comma-separated ids did). The walk below an
adaptation reads it (``descendants_below``): one row per node 8j levels down
instead of one per pair, so PostgreSQL handles ~290 rows instead of ~2,900
below the benchmark's depth-10 node (the pair table still finds the nodes
exactly 8 down, index-only), and the shortest distances come from set
differences level by level here. Reading the pair rows one by one (and taking
the minimum per node in SQL) cost 5-6 ms of server CPU there, against a 1.4 ms
in-memory BFS. The rows of the ancestors of every recomputed pair are regrouped
in the same transaction.
"""

import sys
from array import array
from collections.abc import Iterable
from itertools import repeat
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _

__all__ = [
    "REACH_HOPS",
    "LineageBelow",
    "LineageReach",
    "LineageRoot",
    "compute_reach",
    "compute_roots",
    "descendants_below",
    "lineage_parents_written",
    "lineage_rebuild",
]

# Taken by every maintenance call (PostgreSQL), after the caller's row locks: two concurrent edits of the
# DAG then recompute one after the other, each seeing what the other committed. (SQLite serialises writers.)
LINEAGE_STORE_LOCK_KEY = 0x666D676F76_02

Roots = dict[int, tuple[int, float]]  # foundation model id -> (depth, weight)
Parents = dict[int, list[tuple[str, int]]]  # adaptation id -> [("m" | "a", parent id)]
Reach = dict[int, int]  # ancestor adaptation id -> shortest distance (1..REACH_HOPS)

# How far apart the stored pairs may be. Larger: fewer probes per walk, more rows per adaptation
# (on the benchmark DAG: 4 -> 4.8 rows and 721 probes below a depth-10 node, 8 -> 11 rows and 289 probes).
REACH_HOPS = 8
# A guard, not a business rule: a cycle written by hand ends the walk instead of recursing for ever.
_MAX_DISTANCE = 10_000


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


class LineageReach(models.Model):
    """An adaptation ``ancestor`` at most ``REACH_HOPS`` above ``descendant``: derived data, rebuilt from the edges."""

    pk = models.CompositePrimaryKey("descendant", "ancestor")
    descendant = models.ForeignKey(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the primary key leads with it
        verbose_name=_("descendant"),
    )
    ancestor = models.ForeignKey(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the walk's index leads with it
        verbose_name=_("ancestor"),
    )
    distance = models.PositiveSmallIntegerField(_("distance"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage reach")
        verbose_name_plural = _("lineage reach")
        # Below an adaptation, the nodes exactly REACH_HOPS down (the next jump) and all within, index-only.
        indexes = [models.Index(fields=["ancestor", "distance", "descendant"], name="lineage_reach_down")]

    def __str__(self) -> str:
        return f"{self.descendant_id} is {self.distance} below {self.ancestor_id}"


class LineageBelow(models.Model):
    """The ``LineageReach`` pairs of one ancestor, grouped by distance: derived data, rebuilt from the pairs."""

    adaptation = models.OneToOneField(
        "registry.Adaptation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("adaptation"),
    )
    # Plain text, not JSON: PostgreSQL sends it as stored (jsonb cost a conversion per row on the server), and
    # the walk joins the parts of one level across rows before parsing them once.
    levels = models.TextField(_("adaptations below, by level"))

    class Meta:
        app_label = "registry"
        verbose_name = _("lineage below")
        verbose_name_plural = _("lineage below")

    def __str__(self) -> str:
        return f"below {self.adaptation_id}: {self.levels}"


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


_SWAP = sys.byteorder == "little"  # the stored ids are big-endian


def _ids(text: str) -> array:
    ids = array("q", bytes.fromhex(text))
    if _SWAP:
        ids.byteswap()
    return ids


def _write_below(below: dict[int, list[list[int]]]) -> int:
    rows = ((ancestor, _levels_text(levels)) for ancestor, levels in below.items())
    if connection.vendor == "postgresql" and len(below) > _COPY_ABOVE:
        _copy(LineageBelow, ("adaptation_id", "levels"), rows)
    else:
        objects = (LineageBelow(adaptation_id=ancestor, levels=text) for ancestor, text in rows)
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


def descendants_below(adaptation_id: int) -> list[tuple[int, int]]:
    """(adaptation_id, shortest depth) of everything below an adaptation, nearest first then by id; one query.

    The query follows the pairs exactly REACH_HOPS down from the adaptation,
    then from each node reached, and so on, and returns the grouped row of
    each (``base`` = 0, 8, 16...). A node at shortest depth ``L`` sits ``L -
    base`` below the node ``base`` levels down on a shortest path to it, so
    taking the rows by base and each row's levels in order, a node's first
    appearance is its shortest depth; the set of nodes seen so far removes
    the later ones (longer paths, or a node reached again through a cycle
    written by hand). Only the level-REACH_HOPS nodes not seen before matter
    at the next base; the query cannot tell which those are and follows them
    all, so it may return rows whose nodes are all seen already, never fewer.
    """
    hops, start = REACH_HOPS, int(adaptation_id)
    below, reach = LineageBelow._meta.db_table, LineageReach._meta.db_table
    if connection.vendor == "postgresql":
        step = (
            f" SELECT r.descendant_id, go.base + {hops}, b.levels FROM go"
            f" JOIN {reach} r ON r.ancestor_id = go.node AND r.distance = {hops}"
            f" JOIN {below} b ON b.adaptation_id = r.descendant_id"
        )
    else:
        # The same rows. SQLite, once ANALYZE has run, plans the join above with a Bloom filter on the pairs
        # that it builds again at every step of the recursion, a scan of the whole table each time (6 ms
        # instead of 0.06 on a 5,000-adaptation registry); a list subquery keeps it to index probes.
        # PostgreSQL plans this form as a scan of the grouped table, so it keeps the join.
        step = (
            f" SELECT b.adaptation_id, go.base + {hops}, b.levels FROM go JOIN {below} b ON b.adaptation_id IN ("
            f"SELECT r.descendant_id FROM {reach} r WHERE r.ancestor_id = go.node AND r.distance = {hops})"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE go(node, base, levels) AS ("
            f" SELECT adaptation_id, 0, levels FROM {below} WHERE adaptation_id = %s"
            f" UNION{step} WHERE go.base < {_MAX_DISTANCE}"
            f") SELECT base, levels FROM go",  # taken by base below
            [start],
        )
        rows = cursor.fetchall()
    by_base: dict[int, list[str]] = {}
    for base, levels in rows:
        by_base.setdefault(base, []).append(levels)
    seen, found = {start}, []
    for base, texts in sorted(by_base.items()):
        parts = ";".join(texts).split(";")
        for level in range(hops):
            layer = set(_ids("".join(parts[level::hops])))  # this level of every row, one parse
            layer -= seen
            seen |= layer
            found.extend(zip(sorted(layer), repeat(base + level + 1)))
    return found


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
