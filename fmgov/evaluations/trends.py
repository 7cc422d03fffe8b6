"""The evaluation panel of a deployment's page: schedules, one trend chart per metric, findings.

The registry draws the deployment page but sits below evaluations, so it asks for
this panel through the ``registry.deployment_evaluation_panel`` hook, answered here
in ``EvaluationsConfig.ready()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from fmgov.core.svg import TrendPoint, trend_svg
from fmgov.evaluations import selectors
from fmgov.evaluations.choices import RunState

if TYPE_CHECKING:
    from fmgov.registry.models import Deployment

__all__ = ["TREND_RUNS", "deployment_evaluation_panel"]

TREND_RUNS = 100


def deployment_evaluation_panel(deployment: Deployment) -> dict[str, Any]:
    """Schedules, a trend chart per metric against its threshold, and findings; a fixed number of queries."""
    runs = list(
        selectors.run_list()
        .filter(deployment=deployment, state=RunState.SUCCEEDED, finished_at__isnull=False)
        .order_by("-finished_at", "-id")[:TREND_RUNS]
    )
    series: dict[tuple[str, str], dict] = {}
    for run in reversed(runs):
        for metric in run.metrics.all():
            entry = series.setdefault((run.suite.name, metric.name), {"points": [], "threshold": None})
            href = reverse("evaluations:run-detail", args=[run.pk])
            if metric.value is None:  # insufficient: nothing to draw, the run page says why
                continue
            entry["points"].append(
                TrendPoint(run.finished_at, metric.value, metric.passed, href, metric.ci_low, metric.ci_high)
            )
            if isinstance(metric.threshold, dict):  # the latest rule is the one drawn
                entry["threshold"] = metric.threshold
    charts = []
    for (suite, metric), entry in sorted(series.items()):
        rule = entry["threshold"] or {}
        title = f"{suite}: {metric}"
        svg = trend_svg(entry["points"], title=title, threshold=rule.get("value"), op=rule.get("op"))
        charts.append({"title": title, "svg": svg})
    return {
        "schedules": list(selectors.schedule_list().filter(deployment=deployment).order_by("suite__name")),
        "charts": charts,
        "findings": list(selectors.findings_for_deployment(deployment)[:50]),
    }
