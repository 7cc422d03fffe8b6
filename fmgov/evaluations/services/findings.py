"""Evaluation findings: a breached threshold opens a ``findings.Finding`` and revokes approvals.

A breach of a suite some review policy requires revokes down the lineage (every deployment of the target and of
its descendants); a breach of any other suite (one an engineer set up) revokes only the deployment the run was on,
so nobody takes down others' deployments with a suite or a results file of their own.

The finding itself is the general one (``fmgov.findings``): its subject is the
deployment, its detail the metric, value, threshold and run. Acknowledging and
resolving are ``fmgov.findings.services``; only what is particular to
evaluations lives here.
"""

from __future__ import annotations

from typing import Any

from fmgov.evaluations.evaluators.base import Estimate
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.evaluations.services.common import SYSTEM, _enqueue
from fmgov.evaluations.services.thresholds import judged_value
from fmgov.findings.choices import FindingSource, Severity
from fmgov.findings.models import Finding
from fmgov.findings.services import finding_open

__all__ = ["evaluation_finding_open", "breach_title", "breach_dedupe_key"]


def breach_title(metric: str, value: float, threshold: dict[str, Any]) -> str:
    """``value`` is the number judged: the estimate, or the interval bound the rule names."""
    bound = {"upper": " (upper bound)", "lower": " (lower bound)"}.get(threshold.get("on", ""), "")
    return f"{metric}{bound} = {value:g} breaches {threshold.get('op', '')} {threshold.get('value', '')}".strip()


def breach_dedupe_key(run_id: int, metric: str) -> str:
    """One finding per run and metric, as a run's metrics are written once."""
    return f"evaluation:run:{run_id}:{metric}"


def evaluation_finding_open(run: EvaluationRun, metric: RunMetric) -> Finding:
    """Open the finding for a breached threshold (inside run_complete's transaction), revoke, then notify."""
    threshold = metric.threshold or {}
    severity = threshold.get("severity")
    finding, created = finding_open(
        source=FindingSource.EVALUATION,
        subject=run.deployment,
        subject_label=run.deployment.name,
        severity=severity if severity in Severity.values else Severity.HIGH,
        title=breach_title(metric.name, judged_value(threshold, _estimate(metric)), threshold),
        detail={
            "metric": metric.name,
            "value": metric.value,
            "n": metric.n,
            "ci_low": metric.ci_low,
            "ci_high": metric.ci_high,
            "threshold": threshold,
            "run": run.pk,
            "suite": run.suite_id,
            "suite_name": run.suite.name,
        },
        dedupe_key=breach_dedupe_key(run.pk, metric.name),
        system=SYSTEM,
    )
    if created:
        revoked = _revoke_downstream_approvals(finding, run)
        from fmgov.evaluations import tasks

        _enqueue(tasks.notify_finding, finding.pk, revoked)
    return finding


def _estimate(metric: RunMetric) -> Estimate:
    return Estimate(metric.value, metric.n, metric.ci_low, metric.ci_high, metric.method, metric.insufficient)


def _revoke_downstream_approvals(finding: Finding, run: EvaluationRun) -> list[int]:
    """Revoke the current approved review of the deployment, and downstream of its target for a required suite."""
    from fmgov.evaluations.models import SuiteRequirement
    from fmgov.registry.models import Deployment
    from fmgov.registry.selectors import deployments_affected_by
    from fmgov.reviews.selectors import current_approved_review
    from fmgov.reviews.services import review_revoke

    deployment = run.deployment
    if not SuiteRequirement.objects.filter(suite_id=run.suite_id).exists():
        affected = Deployment.objects.filter(pk=deployment.pk)
    elif deployment.foundation_model_id:
        affected = deployments_affected_by(model_id=deployment.foundation_model_id)
    else:
        affected = deployments_affected_by(adaptation_id=deployment.adaptation_id)
    revoked = []
    reason = f"Evaluation finding #{finding.pk}: {finding.title} on deployment {deployment} (run #{run.pk})."
    for target in affected.order_by("pk"):
        review = current_approved_review(target)
        if review is None:
            continue
        review_revoke(review=review, actor=None, system=SYSTEM, reason=reason, finding=finding)
        revoked.append(review.pk)
    return revoked
