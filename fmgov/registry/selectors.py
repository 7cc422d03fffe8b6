# ruff: noqa: S608, S611 -- only table and column names from model _meta are interpolated; values are parameters.
"""Reads for the registry: list querysets shaped for views, and the lineage walks.

The lineage walks are recursive CTEs, so "what depends on this model?" costs one
query whatever the depth of the DAG. ``UNION`` (not ``UNION ALL``) keeps one row
per (adaptation, depth) so diamonds in the DAG do not multiply rows into paths;
the depth reported is the shortest distance from the start. A node reachable at
several depths is still walked once per depth, so where only membership matters
(affected deployments, the cycle check) a depth-free walk visits each node once.
The SQL is plain SQL-99 and runs unchanged on SQLite and PostgreSQL.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from fmgov.registry import hooks
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel

__all__ = [
    "MAX_LINEAGE_DEPTH",
    "foundation_model_list",
    "adaptation_list",
    "deployment_list",
    "adaptation_descendants",
    "adaptation_descendant_ids",
    "descendant_adaptations",
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
    return Adaptation.objects.select_related("owner").prefetch_related(Prefetch("parent_edges", queryset=edges))


def deployment_list() -> QuerySet[Deployment]:
    """Deployments with owner and target joined, so a page is one query."""
    return Deployment.objects.select_related("owner", "foundation_model", "adaptation", "endpoint_credential")


def _start(model_id: int | None, adaptation_id: int | None) -> tuple[str, int]:
    if (model_id is None) == (adaptation_id is None):
        raise ValueError("Give exactly one of model_id or adaptation_id.")
    if model_id is not None:
        return "parent_model_id", int(model_id)
    return "parent_adaptation_id", int(adaptation_id)


def _descendants_cte(start_column: str) -> str:
    """The recursive walk down the edges; params: start id, depth guard."""
    edges = AdaptationParent._meta.db_table
    return (
        f"WITH RECURSIVE walk(adaptation_id, depth) AS ("
        f" SELECT child_id, 1 FROM {edges} WHERE {start_column} = %s"
        f" UNION"
        f" SELECT e.child_id, walk.depth + 1 FROM {edges} e"
        f" JOIN walk ON e.parent_adaptation_id = walk.adaptation_id"
        f" WHERE walk.depth < %s"
        f")"
    )


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


def adaptation_descendant_ids(*, model_id: int | None = None, adaptation_id: int | None = None) -> set[int]:
    """Ids of everything downstream, in one query that visits each adaptation once."""
    column, start = _start(model_id, adaptation_id)
    with connection.cursor() as cursor:
        cursor.execute(_reach_cte(column) + " SELECT adaptation_id FROM reach", [start])
        return {int(row[0]) for row in cursor.fetchall()}


def adaptation_descendants(*, model_id: int | None = None, adaptation_id: int | None = None) -> list[tuple[int, int]]:
    """(adaptation_id, depth) of everything downstream, nearest first, in one query."""
    column, start = _start(model_id, adaptation_id)
    sql = (
        _descendants_cte(column) + " SELECT adaptation_id, MIN(depth) AS depth FROM walk"
        " GROUP BY adaptation_id ORDER BY depth, adaptation_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, MAX_LINEAGE_DEPTH])
        return [(int(row[0]), int(row[1])) for row in cursor.fetchall()]


def descendant_adaptations(*, model_id: int | None = None, adaptation_id: int | None = None) -> list[dict[str, Any]]:
    """Descendants with the columns a person needs to read them, still one query."""
    column, start = _start(model_id, adaptation_id)
    table = Adaptation._meta.db_table
    sql = (
        _descendants_cte(column) + f", nearest(adaptation_id, depth) AS ("
        " SELECT adaptation_id, MIN(depth) FROM walk GROUP BY adaptation_id)"
        f" SELECT a.id, a.name, a.version, a.kind, a.owner_id, nearest.depth FROM nearest"
        f" JOIN {table} a ON a.id = nearest.adaptation_id ORDER BY nearest.depth, a.name, a.version, a.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, MAX_LINEAGE_DEPTH])
        rows = cursor.fetchall()
    keys = ("id", "name", "version", "kind", "owner_id", "depth")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _ancestors_sql(with_names: bool) -> str:
    edges = AdaptationParent._meta.db_table
    cte = (
        f"WITH RECURSIVE up(kind, node_id, depth) AS ("
        f" SELECT CASE WHEN parent_model_id IS NULL THEN 'adaptation' ELSE 'foundation_model' END,"
        f" COALESCE(parent_model_id, parent_adaptation_id), 1 FROM {edges} WHERE child_id = %s"
        f" UNION"
        f" SELECT CASE WHEN e.parent_model_id IS NULL THEN 'adaptation' ELSE 'foundation_model' END,"
        f" COALESCE(e.parent_model_id, e.parent_adaptation_id), up.depth + 1 FROM {edges} e"
        f" JOIN up ON up.kind = 'adaptation' AND e.child_id = up.node_id"
        f" WHERE up.depth < %s"
        f"), nearest(kind, node_id, depth) AS (SELECT kind, node_id, MIN(depth) FROM up GROUP BY kind, node_id)"
    )
    if not with_names:
        return cte + " SELECT kind, node_id, depth FROM nearest ORDER BY depth, kind, node_id"
    models, adaptations = FoundationModel._meta.db_table, Adaptation._meta.db_table
    return cte + (
        " SELECT n.kind, n.node_id, n.depth, COALESCE(m.name, a.name), COALESCE(m.version, a.version)"
        f" FROM nearest n LEFT JOIN {models} m ON n.kind = 'foundation_model' AND m.id = n.node_id"
        f" LEFT JOIN {adaptations} a ON n.kind = 'adaptation' AND a.id = n.node_id"
        " ORDER BY n.depth, n.kind, n.node_id"
    )


def adaptation_ancestors(*, adaptation_id: int) -> list[dict[str, Any]]:
    """Every ancestor up to the foundation models, as {kind, id, depth}, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_ancestors_sql(with_names=False), [int(adaptation_id), MAX_LINEAGE_DEPTH])
        return [{"kind": kind, "id": int(node_id), "depth": int(depth)} for kind, node_id, depth in cursor.fetchall()]


def adaptation_lineage(*, adaptation_id: int) -> list[dict[str, Any]]:
    """Ancestors with their names and versions, for people; one query."""
    with connection.cursor() as cursor:
        cursor.execute(_ancestors_sql(with_names=True), [int(adaptation_id), MAX_LINEAGE_DEPTH])
        rows = cursor.fetchall()
    return [
        {"kind": kind, "id": int(node_id), "depth": int(depth), "name": name, "version": version}
        for kind, node_id, depth, name, version in rows
    ]


def deployments_affected_by(*, model_id: int | None = None, adaptation_id: int | None = None) -> QuerySet[Deployment]:
    """Deployments of the target and of every descendant adaptation: a lazy queryset, one query."""
    column, start = _start(model_id, adaptation_id)
    downstream = RawSQL(_reach_cte(column) + " SELECT adaptation_id FROM reach", [start])
    itself = Q(foundation_model_id=start) if model_id is not None else Q(adaptation_id=start)
    return deployment_list().filter(itself | Q(adaptation_id__in=downstream))


def root_models_of(adaptation_ids: Iterable[int]) -> dict[int, list[tuple[int, float]]]:
    """Foundation models each adaptation rests on, weighted by lineage share.

    Each adaptation splits its weight equally among its parents, so an
    adaptation merged from two models rests 0.5 on each and the weights of one
    adaptation sum to 1. Portfolio views use this to attribute a deployment of
    an adaptation to providers. One query for all the ids together.
    """
    ids = sorted({int(i) for i in adaptation_ids})
    if not ids:
        return {}
    edges = AdaptationParent._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    # No depth column: UNION then visits each ancestor once, however many paths lead to it
    # (the DAG is acyclic by construction, and UNION would end even on a cycle).
    sql = (
        f"WITH RECURSIVE up(node_id) AS ("
        f" SELECT child_id FROM {edges} WHERE child_id IN ({placeholders})"
        f" UNION"
        f" SELECT e.parent_adaptation_id FROM {edges} e JOIN up ON e.child_id = up.node_id"
        f" WHERE e.parent_adaptation_id IS NOT NULL"
        f") SELECT child_id, parent_model_id, parent_adaptation_id FROM {edges}"
        f" WHERE child_id IN (SELECT node_id FROM up)"
    )
    parents: dict[int, list[tuple[str, int]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for child_id, parent_model_id, parent_adaptation_id in cursor.fetchall():
            if parent_model_id is not None:
                parents[child_id].append(("m", int(parent_model_id)))
            else:
                parents[child_id].append(("a", int(parent_adaptation_id)))

    memo: dict[int, dict[int, float]] = {}

    def weights(node: int) -> dict[int, float]:
        # Iterative post-order so that a deep chain does not hit the recursion limit.
        stack = [node]
        while stack:
            current = stack[-1]
            pending = [p for kind, p in parents.get(current, []) if kind == "a" and p not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current in memo:
                continue
            own: dict[int, float] = defaultdict(float)
            edges_of = parents.get(current, [])
            for kind, parent in edges_of:
                share = 1.0 / len(edges_of)
                if kind == "m":
                    own[parent] += share
                else:
                    for root, w in memo[parent].items():
                        own[root] += share * w
            memo[current] = dict(own)
        return memo[node]

    return {i: sorted(weights(i).items()) for i in ids}


def deployment_go_live_blocker(deployment: Deployment) -> str | None:
    """Why this deployment may not go live, or None. The reviews app owns the answer, through a hook."""
    return hooks.deployment_approval_blocker(deployment)
