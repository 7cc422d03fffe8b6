"""Portfolio-wide measurements: provider concentration and the environmental footprint.

Both run a constant number of queries whatever the size of the registry. The
concentration is set-based: the weights each live deployment puts on its root
foundation models come from the stored lineage (``fmgov.registry.lineage``),
summed per model in the database; the footprint reads the roots of the
deployments live in the period in one query (``root_models_of``).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import BooleanField, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from fmgov.evaluations.choices import RunState
from fmgov.findings.choices import FindingSource
from fmgov.findings.models import Finding
from fmgov.findings.selectors import finding_list
from fmgov.portfolio.choices import band_for
from fmgov.portfolio.energy import (
    ENERGY_EVALUATORS,
    ESTIMATE_KEYS,
    FOOTPRINT_METHOD,
    NO_ENERGY_RUN,
    PerThousand,
    inference_estimate,
)
from fmgov.portfolio.live_periods import days_live, ever_live_ids, live_intervals, period_bounds, status_events
from fmgov.portfolio.models import PortfolioSettings
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.models import Deployment, FoundationModel
from fmgov.registry.selectors import root_models_of

__all__ = [
    "portfolio_settings",
    "live_deployment_roots",
    "period_deployment_roots",
    "concentration",
    "footprint",
    "portfolio_finding_list",
    "FOOTPRINT_METHOD",
]


def portfolio_settings() -> PortfolioSettings:
    """The settings row, or unsaved defaults if an admin never saved any."""
    return PortfolioSettings.objects.filter(pk=1).first() or PortfolioSettings(pk=1)


@dataclass(frozen=True)
class LiveDeployment:
    id: int
    name: str
    environment: str
    roots: tuple[tuple[int, float], ...]  # (foundation model id, weight), weights sum to 1
    expected_requests_per_day: int | None
    expected_tokens_per_request: int | None
    went_live_at: dt.datetime | None


_DEPLOYMENT_COLUMNS = (
    "id",
    "name",
    "environment",
    "foundation_model_id",
    "adaptation_id",
    "expected_requests_per_day",
    "expected_tokens_per_request",
    "went_live_at",
)


class _Live(NamedTuple):
    """A ``_DEPLOYMENT_COLUMNS`` row by name."""

    id: int
    name: str
    environment: str
    foundation_model_id: int | None
    adaptation_id: int | None
    expected_requests_per_day: int | None
    expected_tokens_per_request: int | None
    went_live_at: dt.datetime | None


def _with_roots(rows: list[tuple]) -> list[LiveDeployment]:
    roots = root_models_of([r[4] for r in rows if r[4] is not None])
    result = []
    for pk, name, env, model_id, adaptation_id, rpd, tpr, went_live in rows:
        weights = ((model_id, 1.0),) if model_id is not None else tuple(roots.get(adaptation_id, ()))
        result.append(LiveDeployment(pk, name, env, weights, rpd, tpr, went_live))
    return result


def live_deployment_roots(environment: str | None = None) -> list[LiveDeployment]:
    """Every live deployment with the foundation models it rests on. Two queries."""
    rows = Deployment.objects.filter(status=DeploymentStatus.LIVE)
    if environment:
        rows = rows.filter(environment=environment)
    return _with_roots(list(rows.order_by("id").values_list(*_DEPLOYMENT_COLUMNS)))


def period_deployment_roots(
    start: dt.date, end: dt.date, environment: str | None = None
) -> list[tuple[LiveDeployment, float]]:
    """Every deployment live at any time in the period, with the days it was live in it. Three queries.

    The days come from the deployment status events of the audit trail (``live_periods``), so a
    deployment retired since still counts for the time it ran.
    """
    rows, days = _period_rows(start, end, environment)
    return [(d, days[d.id]) for d in _with_roots(rows)]


def _period_rows(
    start: dt.date, end: dt.date, environment: str | None, **extra: Any
) -> tuple[list[tuple], dict[int, float]]:
    """The ``_DEPLOYMENT_COLUMNS`` rows (then the ``extra`` annotations) of the deployments live in the period,
    and their days live. One query (after the trail's status events)."""
    begin, finish = period_bounds(start, end)
    events = status_events(finish)
    rows = Deployment.objects.filter(Q(status=DeploymentStatus.LIVE) | Q(id__in=ever_live_ids(events)))
    if environment:
        rows = rows.filter(environment=environment)
    rows = list(rows.annotate(**extra).order_by("id").values_list(*_DEPLOYMENT_COLUMNS, *extra, "status"))
    intervals = live_intervals(rows={r[0]: (r[-1], r[7]) for r in rows}, events=events, until=finish)
    days = {pk: days_live(spans, begin, finish) for pk, spans in intervals.items()}
    return [r[:-1] for r in rows if days.get(r[0], 0) > 0], days


def _id_in(column: str, ids: set[int] | list[int]) -> Q:
    """``column IN ids`` for thousands of ids: on PostgreSQL one array parameter (``= ANY(%s)``).

    Django spells ``__in`` as one placeholder per id; with the 8,000 live deployments of a large
    portfolio, binding and planning those literals cost more than the query itself.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return Q(**{f"{column}__in": ids})
    any_of = f"{connection.ops.quote_name(column)} = ANY(%s)"  # a column name from this module, ids a parameter
    return Q(RawSQL(any_of, (sorted(ids),), output_field=BooleanField()))  # noqa: S611


_MODEL_FIELDS = (
    "id",
    "name",
    "version",
    "provider",
    "training_energy_kwh",
    "training_emissions_tco2e",
    "training_compute_flop",
)


def _models_by_id(ids: set[int]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in FoundationModel.objects.filter(id__in=ids).values(*_MODEL_FIELDS)}


def _models_in_use(model_ids: set[int], adaptation_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The models deployed directly and the root models of the adaptations deployed. One query.

    The roots are matched in the database (a few dozen models), not fetched per adaptation (tens of
    thousands of stored root rows for a large portfolio).
    """
    roots = LineageRoot.objects.filter(_id_in("adaptation_id", adaptation_ids)).values("foundation_model_id")
    in_use = FoundationModel.objects.filter(Q(id__in=model_ids) | Q(id__in=roots))
    return {row["id"]: row for row in in_use.values(*_MODEL_FIELDS)}


def _model_totals(environment: str | None) -> tuple[int, dict[int, tuple[float, int]]]:
    """Live deployments, and per foundation model (weighted deployments, dependent deployments). Two queries.

    Set-based: a deployment of a model counts 1 on it; a deployment of an
    adaptation counts its stored lineage share on each root model
    (``fmgov.registry.lineage``), summed in the database.
    """
    live = Deployment.objects.filter(status=DeploymentStatus.LIVE)
    if environment:
        live = live.filter(environment=environment)
    totals: dict[int, tuple[float, int]] = {}
    total = 0
    # Grouped by the model deployed; the group without one (deployments of adaptations) completes the total.
    for row in live.values("foundation_model_id").annotate(n=Count("id")).order_by():
        total += row["n"]
        if row["foundation_model_id"] is not None:
            totals[row["foundation_model_id"]] = (float(row["n"]), row["n"])
    via = (
        live.filter(adaptation__isnull=False)
        .values(model_id=F("adaptation__lineage_roots__foundation_model_id"))
        .annotate(weight=Sum("adaptation__lineage_roots__weight"), n=Count("id"))
        .filter(model_id__isnull=False)
    )
    for row in via.order_by():
        weight, n = totals.get(row["model_id"], (0.0, 0))
        totals[row["model_id"]] = (weight + row["weight"], n + row["n"])
    return total, totals


def concentration(environment: str | None = None) -> dict[str, Any]:
    """Shares of live deployments per provider and per foundation model, the HHI and single points of failure.

    A deployment of an adaptation is attributed to its root foundation models,
    an adaptation with two parents weighing 1/2 on each. HHI is the sum of
    squared percentage shares over providers (0-10,000). Four queries whatever the size of the registry.
    """
    total, totals = _model_totals(environment)
    settings_row = portfolio_settings()
    models = _models_by_id(set(totals))

    per_provider: dict[str, float] = defaultdict(float)
    for model_id, (count, _) in totals.items():
        per_provider[models[model_id]["provider"]] += count

    def share(count: float) -> float:
        return count / total if total else 0.0

    providers = sorted(
        ({"provider": p, "deployments": round(c, 6), "share": round(share(c), 6)} for p, c in per_provider.items()),
        key=lambda row: (-row["deployments"], row["provider"]),
    )
    hhi = round(sum((share(c) * 100) ** 2 for c in per_provider.values()), 4)
    model_rows = sorted(
        (
            {
                "foundation_model": model_id,
                "name": f"{models[model_id]['name']} {models[model_id]['version']}",
                "provider": models[model_id]["provider"],
                "deployments": round(count, 6),
                "share": round(share(count), 6),
                "dependent_deployments": dependent,
            }
            for model_id, (count, dependent) in totals.items()
        ),
        key=lambda row: (-row["deployments"], row["name"]),
    )
    limit = settings_row.single_point_of_failure_share
    spof = [
        {
            "foundation_model": row["foundation_model"],
            "name": row["name"],
            "provider": row["provider"],
            "deployments_at_risk": row["dependent_deployments"],
            "share_at_risk": round(share(row["dependent_deployments"]), 6),
        }
        for row in model_rows
        if total and share(row["dependent_deployments"]) > limit
    ]
    spof.sort(key=lambda row: (-row["share_at_risk"], row["name"]))
    return {
        "environment": environment or None,
        "live_deployments": total,
        "hhi": hhi,
        "band": band_for(hhi),
        "alert_threshold": settings_row.hhi_alert_threshold,
        "alert": total > 0 and hhi > settings_row.hhi_alert_threshold,
        "single_point_of_failure_share": limit,
        "providers": providers,
        "models": model_rows,
        "single_points_of_failure": spof,
    }


def footprint(*, period_start: dt.date, period_end: dt.date, environment: str | None = None) -> dict[str, Any]:
    """Training and inference energy and emissions of what was live in the period. Six queries.

    The trail's status events (two), the deployments live in the period with their latest energy run,
    the models they rest on, the settings, the runs' metrics.
    """
    from fmgov.evaluations.models import EvaluationRun, RunMetric

    latest_run = (
        EvaluationRun.objects.filter(
            deployment_id=OuterRef("pk"), evaluator__in=ENERGY_EVALUATORS, state=RunState.SUCCEEDED
        )
        .order_by("-finished_at", "-id")
        .values("id")[:1]
    )
    rows, days_of = _period_rows(period_start, period_end, environment, energy_run=Subquery(latest_run))
    live = [_Live(*row[:-1]) for row in rows]
    run_of = {row[0]: row[-1] for row in rows}
    models = _models_in_use(
        {d.foundation_model_id for d in live if d.foundation_model_id},
        {d.adaptation_id for d in live if d.adaptation_id},
    )
    settings_row = portfolio_settings()

    training_rows, undisclosed = [], 0
    for model in sorted(models.values(), key=lambda m: (m["name"], m["version"])):
        disclosed = any(
            model[k] is not None for k in ("training_energy_kwh", "training_emissions_tco2e", "training_compute_flop")
        )
        undisclosed += not disclosed
        training_rows.append(
            {
                "foundation_model": model["id"],
                "name": f"{model['name']} {model['version']}",
                "provider": model["provider"],
                "energy_kwh": model["training_energy_kwh"],
                "emissions_tco2e": model["training_emissions_tco2e"],
                "compute_flop": model["training_compute_flop"],
                "disclosed": disclosed,
            }
        )

    wanted = {"energy_wh_per_1k_tokens", "emissions_gco2e_per_1k_tokens"}
    metrics: dict[int, dict[str, PerThousand]] = defaultdict(dict)
    for run_id, name, value, low, high in (
        RunMetric.objects.filter(_id_in("run_id", {r for r in run_of.values() if r}), name__in=wanted)
        .exclude(value=None)
        .order_by()  # the model's ordering joins every run only to sort
        .values_list("run_id", "name", "value", "ci_low", "ci_high")
    ):
        metrics[run_id][name] = PerThousand(value, low, high)

    inference_rows = []
    total_wh, total_g = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]  # (estimate, low, high)
    for deployment in live:
        run_id = run_of.get(deployment.id)
        values = metrics.get(run_id, {})
        row: dict[str, Any] = {
            "deployment": deployment.id,
            "name": deployment.name,
            "environment": deployment.environment,
            "latency_energy_run": run_id,
            "days_live_in_period": days_of[deployment.id],
            "tokens": None,
            **dict.fromkeys(ESTIMATE_KEYS),
            "range_stated": None,
            "note": "",
        }
        if not run_id or "energy_wh_per_1k_tokens" not in values:
            row["note"] = NO_ENERGY_RUN
        elif not deployment.expected_requests_per_day or not deployment.expected_tokens_per_request:
            row["note"] = "no declared traffic (requests per day, tokens per request)"
        else:
            tokens = round(
                deployment.expected_requests_per_day
                * deployment.expected_tokens_per_request
                * row["days_live_in_period"]
            )
            wh, grams, stated = inference_estimate(tokens, values, settings_row.grid_intensity_gco2e_per_kwh)
            row.update(tokens=tokens, range_stated=stated)
            for i, end in enumerate(("", "_low", "_high")):
                row[f"energy_kwh{end}"] = round(wh[i] / 1000, 6)
                row[f"emissions_kgco2e{end}"] = round(grams[i] / 1000, 6)
                total_wh[i] += wh[i]
                total_g[i] += grams[i]
        inference_rows.append(row)

    return {
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "environment": environment or None,
        "training": {
            "energy_kwh": sum(r["energy_kwh"] or 0 for r in training_rows),
            "emissions_tco2e": sum(r["emissions_tco2e"] or 0 for r in training_rows),
            "models": training_rows,
            "models_in_use": len(training_rows),
            "undisclosed_models": undisclosed,
            "undisclosed_share": round(undisclosed / len(training_rows), 6) if training_rows else 0.0,
        },
        "inference": {
            **{
                f"{key}{end}": round(total[i] / 1000, 6)
                for key, total in (("energy_kwh", total_wh), ("emissions_kgco2e", total_g))
                for i, end in enumerate(("", "_low", "_high"))
            },
            "deployments": inference_rows,
            "estimated_deployments": sum(1 for r in inference_rows if r["energy_kwh"] is not None),
        },
        "method": FOOTPRINT_METHOD,
    }


def portfolio_finding_list() -> QuerySet[Finding]:
    """The findings the portfolio check opened, with their measured value to order by."""
    return (
        finding_list(source=FindingSource.PORTFOLIO)
        .annotate(value=Cast(KeyTextTransform("value", "detail"), FloatField()))
        .order_by("-opened_at", "-id")
    )
