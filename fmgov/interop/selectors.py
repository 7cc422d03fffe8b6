# ruff: noqa: S608 -- only table names from model _meta and %s placeholders are interpolated; ids are parameters.
"""Reads for the ML-BOM: everything one BOM describes, fetched in a fixed number of queries.

A BOM covers a set of deployments (one, or every live one) or one foundation
model. ``bom_source`` gathers, for that set: the deployments with their
credentials' *existence* (never a value), every model and adaptation on the
lineage of their targets (one recursive query walks up from all targets at
once), the lineage edges, the latest succeeded run of each suite on each
deployment of those versions with its metrics, and each deployment's current
approval with its policy, items and sign-offs. The number of queries depends
on none of: the depth of the lineage, the number of ancestors, deployments or
runs.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.selectors import MAX_LINEAGE_DEPTH, deployment_list
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import ReviewItem, RiskReview, SignOff

__all__ = [
    "BomSource",
    "bom_source",
    "deployment_for_bom",
    "foundation_model_for_bom",
    "live_deployments",
    "lineage_edges",
]


@dataclass
class BomSource:
    """What one BOM is made of; ``bom.py`` turns it into CycloneDX without another query."""

    deployments: list[Deployment]
    models: dict[int, FoundationModel]
    adaptations: dict[int, Adaptation]
    # adaptation id -> [("model" | "adaptation", parent id)], in edge order
    parents: dict[int, list[tuple[str, int]]]
    # ("model" | "adaptation", id) -> latest succeeded runs (one per suite and deployment), metrics prefetched
    runs: dict[tuple[str, int], list[EvaluationRun]] = field(default_factory=dict)
    # deployment id -> its current approved review (policy, items, sign-offs prefetched)
    approvals: dict[int, RiskReview] = field(default_factory=dict)


def deployment_for_bom(pk: int) -> Deployment:
    """One deployment, shaped like ``deployment_list`` rows (raises DoesNotExist)."""
    return deployment_list().get(pk=pk)


def foundation_model_for_bom(pk: int) -> FoundationModel | None:
    return FoundationModel.objects.filter(pk=pk).first()


def live_deployments() -> QuerySet[Deployment]:
    return deployment_list().filter(status=DeploymentStatus.LIVE).order_by("name", "pk")


def lineage_edges(adaptation_ids: set[int]) -> dict[int, list[tuple[str, int]]]:
    """Parent edges of the given adaptations and of every adaptation above them, in one recursive query."""
    if not adaptation_ids:
        return {}
    edges = AdaptationParent._meta.db_table
    ids = sorted(adaptation_ids)
    marks = ", ".join("%s" for _ in ids)
    sql = (
        f"WITH RECURSIVE above(node, steps) AS ("
        f"SELECT id, 0 FROM {Adaptation._meta.db_table} WHERE id IN ({marks}) "
        f"UNION SELECT up.parent_adaptation_id, above.steps + 1 FROM {edges} up "
        f"INNER JOIN above ON up.child_id = above.node "
        f"WHERE up.parent_adaptation_id IS NOT NULL AND above.steps < %s) "
        f"SELECT child_id, parent_model_id, parent_adaptation_id FROM {edges} "
        f"WHERE child_id IN (SELECT node FROM above) ORDER BY child_id, id"
    )
    found: dict[int, list[tuple[str, int]]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, MAX_LINEAGE_DEPTH])
        for child, model_id, adaptation_id in cursor.fetchall():
            parent = ("model", int(model_id)) if model_id is not None else ("adaptation", int(adaptation_id))
            if parent not in found[int(child)]:
                found[int(child)].append(parent)
    return dict(found)


def _latest_runs(model_ids: set[int], adaptation_ids: set[int]) -> dict[tuple[str, int], list[EvaluationRun]]:
    """The newest succeeded run of each suite on each deployment of these versions; newest first per version."""
    if not model_ids and not adaptation_ids:
        return {}
    newest = (
        EvaluationRun.objects.filter(
            deployment_id=OuterRef("deployment_id"), suite_id=OuterRef("suite_id"), state=RunState.SUCCEEDED
        )
        .order_by("-finished_at", "-pk")
        .values("pk")[:1]
    )
    runs = (
        EvaluationRun.objects.filter(state=RunState.SUCCEEDED)
        .filter(Q(deployment__foundation_model_id__in=model_ids) | Q(deployment__adaptation_id__in=adaptation_ids))
        .filter(pk=Subquery(newest))
        .select_related("suite", "deployment")
        .prefetch_related(Prefetch("metrics", queryset=RunMetric.objects.order_by("name")))
        .order_by("-finished_at", "-pk")
    )
    by_version: dict[tuple[str, int], list[EvaluationRun]] = defaultdict(list)
    for run in runs:
        d = run.deployment
        key = ("model", d.foundation_model_id) if d.foundation_model_id else ("adaptation", d.adaptation_id)
        by_version[key].append(run)
    return dict(by_version)


def _approvals(deployment_ids: list[int]) -> dict[int, RiskReview]:
    """Each deployment's newest approval, if it still stands (approved, unrevoked, unexpired)."""
    if not deployment_ids:
        return {}
    newest = (
        RiskReview.objects.filter(deployment_id=OuterRef("deployment_id"), approved_at__isnull=False)
        .order_by("-approved_at", "-pk")
        .values("pk")[:1]
    )
    reviews = (
        RiskReview.objects.filter(deployment_id__in=deployment_ids, pk=Subquery(newest))
        .filter(state=ReviewState.APPROVED, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .select_related("policy")
        .prefetch_related(
            Prefetch("items", queryset=ReviewItem.objects.select_related("category").order_by("id")),
            Prefetch("sign_offs", queryset=SignOff.objects.select_related("reviewer").order_by("created_at", "id")),
        )
    )
    return {review.deployment_id: review for review in reviews}


def bom_source(*, deployments: list[Deployment], model_ids: set[int] | None = None) -> BomSource:
    """Everything a BOM of these deployments (and, for a model's BOM, these models) describes."""
    model_ids = set(model_ids or ())
    target_adaptations = {d.adaptation_id for d in deployments if d.adaptation_id}
    model_ids |= {d.foundation_model_id for d in deployments if d.foundation_model_id}
    parents = lineage_edges(target_adaptations)
    adaptation_ids = set(target_adaptations) | set(parents)
    for edges in parents.values():
        model_ids |= {pk for kind, pk in edges if kind == "model"}
        adaptation_ids |= {pk for kind, pk in edges if kind == "adaptation"}
    models = {m.pk: m for m in FoundationModel.objects.filter(pk__in=model_ids)} if model_ids else {}
    adaptations = {a.pk: a for a in Adaptation.objects.filter(pk__in=adaptation_ids)} if adaptation_ids else {}
    return BomSource(
        deployments=deployments,
        models=models,
        adaptations=adaptations,
        parents=parents,
        runs=_latest_runs(set(models), set(adaptations)),
        approvals=_approvals([d.pk for d in deployments]),
    )
