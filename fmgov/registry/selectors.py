# ruff: noqa: S608, S611 -- only table and column names from model _meta are interpolated; values are parameters.
"""Reads for the registry: list querysets shaped for views, and the lineage walks.

Lineage reads never enumerate (node, depth) pairs, which on a DAG with fan-in
walks a node once per distinct depth it is reachable at. Below a foundation
model, and for the models an adaptation rests on, the stored roots
(``fmgov.registry.lineage``) answer with an index scan; below an adaptation,
the stored reach pairs, grouped by ancestor, answer with one row per node
eight levels apart.
Above an adaptation, one recursive query returns every edge once (``UNION``
over the edge) and the shortest depths come from a breadth-first pass over
them here. The SQL is plain SQL-99 and runs unchanged on SQLite and PostgreSQL.
"""

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL

from fmgov.registry import hooks
from fmgov.registry.lineage import LineageRoot, descendants_below
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel

__all__ = [
    "MAX_LINEAGE_DEPTH",
    "foundation_model_list",
    "adaptation_list",
    "deployment_list",
    "deployment_revision_list",
    "adaptation_descendants",
    "adaptation_descendant_ids",
    "descendant_adaptations",
    "model_descendant_rows",
    "descendant_columns",
    "adaptation_ancestors",
    "adaptation_lineage",
    "deployments_affected_by",
    "root_models_of",
    "deployment_go_live_blocker",
]

# A guard, not a business rule: it stops a walk even if a cycle slipped past the
# services (say, rows written by hand), instead of recursing for ever.
MAX_LINEAGE_DEPTH = 10_000


def foundation_model_list() -> QuerySet[FoundationModel]:
    """Every foundation model with what its list row shows, in one query."""
    return FoundationModel.objects.select_related("owner", "supersedes")


def adaptation_list() -> QuerySet[Adaptation]:
    """Adaptations with their owner and parent edges: two queries for any page size."""
    edges = AdaptationParent.objects.only("id", "child_id", "parent_model_id", "parent_adaptation_id").order_by("id")
    return Adaptation.objects.select_related("owner", "supersedes").prefetch_related(
        Prefetch("parent_edges", queryset=edges)
    )


def deployment_list() -> QuerySet[Deployment]:
    """Deployments with owner and target joined, so a page is one query."""
    return Deployment.objects.select_related("owner", "foundation_model", "adaptation", "endpoint_credential")


def deployment_revision_list() -> QuerySet[Deployment]:
    """``deployment_list`` with ``revised_by_id``: the revision whose go-live replaced each one (or None).

    A subquery, not a join, so it stays one query per page; kept apart from
    ``deployment_list`` so counts and lineage filters do not carry it.
    """
    replaced_by = Deployment.objects.filter(revises=OuterRef("pk"), went_live_at__isnull=False).order_by("went_live_at")
    return deployment_list().annotate(revised_by_id=Subquery(replaced_by.values("pk")[:1]))


def _start(model_id: int | None, adaptation_id: int | None) -> tuple[str, int]:
    if (model_id is None) == (adaptation_id is None):
        raise ValueError("Give exactly one of model_id or adaptation_id.")
    if model_id is not None:
        return "parent_model_id", int(model_id)
    return "parent_adaptation_id", int(adaptation_id)


def _reach_cte(start_column: str) -> str:
    """The walk down without depths; params: start id.

    ``UNION`` on the id alone visits each adaptation once, so the cost is the
    size of the subgraph however many paths lead to a node (and it ends even
    on a cycle). Used where only membership matters.
    """
    edges = AdaptationParent._meta.db_table
    return (
        f"WITH RECURSIVE reach(adaptation_id) AS ("
        f" SELECT child_id FROM {edges} WHERE {start_column} = %s"
        f" UNION"
        f" SELECT e.child_id FROM {edges} e JOIN reach ON e.parent_adaptation_id = reach.adaptation_id"
        f")"
    )


def _bfs(children: dict[Any, list[Any]], start: Any) -> dict[Any, int]:
    """Shortest depth of everything reachable from ``start`` in an adjacency map, level by level."""
    depths: dict[Any, int] = {}
    frontier, level = children.get(start, []), 1
    while frontier:
        following = []
        for node in frontier:
            if node not in depths:
                depths[node] = level
                following.extend(children.get(node, ()))
        frontier, level = following, level + 1
    return depths


def adaptation_descendant_ids(*, model_id: int | None = None, adaptation_id: int | None = None) -> set[int]:
    """Ids of everything downstream: the stored roots for a model, one walk visiting each node once otherwise."""
    if model_id is not None and adaptation_id is None:
        return set(LineageRoot.objects.filter(foundation_model_id=model_id).values_list("adaptation_id", flat=True))
    column, start = _start(model_id, adaptation_id)
    with connection.cursor() as cursor:
        cursor.execute(_reach_cte(column) + " SELECT adaptation_id FROM reach", [start])
        return {int(row[0]) for row in cursor.fetchall()}


def adaptation_descendants(*, model_id: int | None = None, adaptation_id: int | None = None) -> list[tuple[int, int]]:
    """(adaptation_id, depth) of everything downstream, nearest first, in one query.

    Below a model: an index scan of the stored roots. Below an adaptation: the
    stored reach rows, one per node eight levels apart (``lineage.descendants_below``),
    instead of probing the edges once per node or walking every (node, depth) pair.
    """
    _start(model_id, adaptation_id)
    if model_id is not None:
        rows = LineageRoot.objects.filter(foundation_model_id=model_id).order_by("depth", "adaptation_id")
        return list(rows.values_list("adaptation_id", "depth"))
    return descendants_below(int(adaptation_id))


_DESCENDANT_KEYS = ("id", "name", "version", "kind", "owner_id", "depth")


def descendant_adaptations(*, model_id: int | None = None, adaptation_id: int | None = None) -> list[dict[str, Any]]:
    """Descendants with the columns a person needs to read them, nearest first then by name and version.

    One query below a model; below an adaptation, the walk's query and one for
    the columns (the ids go as one parameter, ordered by the database's
    collation, then stably by depth here).
    """
    _start(model_id, adaptation_id)
    table = Adaptation._meta.db_table
    with connection.cursor() as cursor:
        if model_id is not None:
            cursor.execute(
                f"SELECT a.id, a.name, a.version, a.kind, a.owner_id, r.depth FROM {LineageRoot._meta.db_table} r"
                f" JOIN {table} a ON a.id = r.adaptation_id WHERE r.foundation_model_id = %s"
                " ORDER BY r.depth, a.name, a.version, a.id",
                [int(model_id)],
            )
            return [dict(zip(_DESCENDANT_KEYS, row, strict=True)) for row in cursor.fetchall()]
        depths = dict(descendants_below(int(adaptation_id)))
        if not depths:
            return []
        # The ids as one text parameter: adapting a list of thousands element by element cost more than the walk.
        if connection.vendor == "postgresql":
            among, ids = "a.id = ANY(CAST(%s AS bigint[]))", "{" + ",".join(map(str, depths)) + "}"
        else:
            among, ids = "a.id IN (SELECT value FROM json_each(%s))", json.dumps(list(depths))
        cursor.execute(
            f"SELECT a.id, a.name, a.version, a.kind, a.owner_id FROM {table} a WHERE {among}"
            " ORDER BY a.name, a.version, a.id",
            [ids],
        )
        rows = sorted(cursor.fetchall(), key=lambda row: depths[row[0]])
    return [dict(zip(_DESCENDANT_KEYS, (*row, depths[row[0]]), strict=True)) for row in rows]


def model_descendant_rows(*, model_id: int) -> QuerySet:
    """Descendants of a model as (adaptation_id, depth), nearest first then by id: a lazy queryset to page through.

    Read from the stored roots alone: a page is a LIMIT over their (model,
    depth, adaptation) index and the count an index-only count without a join,
    so a page of a model with fifty thousand descendants reads fifty.
    ``descendant_columns`` then names that page's adaptations.
    """
    rows = LineageRoot.objects.filter(foundation_model_id=model_id).order_by("depth", "adaptation_id")
    return rows.values_list("adaptation_id", "depth")


def descendant_columns(page: Iterable[tuple[int, int]]) -> list[dict[str, Any]]:
    """``descendant_adaptations`` rows for (adaptation_id, depth) pairs, in their order; one query."""
    pairs = list(page)
    columns = Adaptation.objects.filter(pk__in=[pk for pk, _ in pairs]).values_list(*_DESCENDANT_KEYS[:-1])
    by_id = {row[0]: row for row in columns}
    return [dict(zip(_DESCENDANT_KEYS, (*by_id[pk], depth), strict=True)) for pk, depth in pairs if pk in by_id]


def _ancestor_rows(adaptation_id: int, with_names: bool) -> list[dict[str, Any]]:
    """Every edge above the adaptation once, then the depths by a breadth-first pass upwards."""
    edges = AdaptationParent._meta.db_table
    models, adaptations = FoundationModel._meta.db_table, Adaptation._meta.db_table
    sql = (
        f"WITH RECURSIVE up(child_id, parent_model_id, parent_adaptation_id) AS ("
        f" SELECT child_id, parent_model_id, parent_adaptation_id FROM {edges} WHERE child_id = %s"
        f" UNION"
        f" SELECT e.child_id, e.parent_model_id, e.parent_adaptation_id FROM {edges} e"
        f" JOIN up ON e.child_id = up.parent_adaptation_id"
        f") SELECT up.child_id, up.parent_model_id, up.parent_adaptation_id"
    )
    if with_names:
        sql += (
            ", COALESCE(m.name, a.name), COALESCE(m.version, a.version) FROM up"
            f" LEFT JOIN {models} m ON m.id = up.parent_model_id"
            f" LEFT JOIN {adaptations} a ON a.id = up.parent_adaptation_id"
        )
    else:
        sql += " FROM up"
    parents: dict[Any, list[Any]] = defaultdict(list)
    names: dict[tuple[str, int], tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(adaptation_id)])
        for child, model, parent, *columns in cursor.fetchall():
            key = ("foundation_model", int(model)) if model is not None else ("adaptation", int(parent))
            parents[("adaptation", int(child))].append(key)
            names[key] = tuple(columns)
    depths = _bfs(parents, ("adaptation", int(adaptation_id)))
    rows = []
    for (kind, node_id), depth in sorted(depths.items(), key=lambda item: (item[1], item[0])):
        row: dict[str, Any] = {"kind": kind, "id": node_id, "depth": depth}
        if with_names:
            row["name"], row["version"] = names[(kind, node_id)]
        rows.append(row)
    return rows


def adaptation_ancestors(*, adaptation_id: int) -> list[dict[str, Any]]:
    """Every ancestor up to the foundation models, as {kind, id, depth}, nearest first, in one query."""
    return _ancestor_rows(adaptation_id, with_names=False)


def adaptation_lineage(*, adaptation_id: int) -> list[dict[str, Any]]:
    """Ancestors with their names and versions, for people; one query."""
    return _ancestor_rows(adaptation_id, with_names=True)


def deployments_affected_by(*, model_id: int | None = None, adaptation_id: int | None = None) -> QuerySet[Deployment]:
    """Deployments of the target and of every descendant adaptation: a lazy queryset, one query."""
    column, start = _start(model_id, adaptation_id)
    if model_id is not None:
        downstream = LineageRoot.objects.filter(foundation_model_id=start).values("adaptation_id")
        return deployment_list().filter(Q(foundation_model_id=start) | Q(adaptation_id__in=downstream))
    downstream = RawSQL(_reach_cte(column) + " SELECT adaptation_id FROM reach", [start])
    return deployment_list().filter(Q(adaptation_id=start) | Q(adaptation_id__in=downstream))


def root_models_of(adaptation_ids: Iterable[int]) -> dict[int, list[tuple[int, float]]]:
    """Foundation models each adaptation rests on, weighted by lineage share; one query on the stored roots.

    Each adaptation splits its weight equally among its parents, so an
    adaptation merged from two models rests 0.5 on each and the weights of one
    adaptation sum to 1 (``fmgov.registry.lineage``).
    """
    ids = sorted({int(i) for i in adaptation_ids})
    result: dict[int, list[tuple[int, float]]] = {i: [] for i in ids}
    if ids:
        rows = LineageRoot.objects.filter(adaptation_id__in=ids).order_by("adaptation_id", "foundation_model_id")
        for adaptation, model, weight in rows.values_list("adaptation_id", "foundation_model_id", "weight"):
            result[adaptation].append((model, weight))
    return result


def deployment_go_live_blocker(deployment: Deployment) -> str | None:
    """Why this deployment may not go live, or None. The reviews app owns the answer, through a hook."""
    return hooks.deployment_approval_blocker(deployment)
