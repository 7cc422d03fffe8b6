"""Reads for suites, schedules, runs and findings, shaped so that views never N+1."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import (
    UPLOAD_TASK_ID,
    EvaluationRun,
    EvaluationSchedule,
    EvaluationSuite,
    EvidenceLink,
    RunMetric,
    SuiteRequirement,
)
from fmgov.findings import selectors as findings_selectors
from fmgov.findings.choices import FindingSource
from fmgov.findings.models import Finding

__all__ = [
    "suite_list",
    "schedule_list",
    "run_list",
    "finding_list",
    "findings_for_deployment",
    "findings_for_run",
    "evidence_for_review",
    "latest_passing_run",
    "review_submission_blockers",
]


def suite_list() -> QuerySet[EvaluationSuite]:
    return (
        EvaluationSuite.objects.select_related("owner")
        .annotate(schedule_count=Count("schedules", distinct=True))
        .order_by("name")
    )


def schedule_list() -> QuerySet[EvaluationSchedule]:
    return EvaluationSchedule.objects.select_related("suite", "deployment", "owner", "periodic_task")


def run_list() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.select_related("suite", "deployment", "requested_by", "schedule").prefetch_related(
        Prefetch("metrics", queryset=RunMetric.objects.order_by("name"))
    )


def finding_list() -> QuerySet[Finding]:
    """The findings evaluations opened (``findings.Finding`` of source evaluation), newest first."""
    return findings_selectors.finding_list(source=FindingSource.EVALUATION).order_by("-opened_at", "-id")


def findings_for_deployment(deployment) -> QuerySet[Finding]:
    return findings_selectors.findings_about(deployment, source=FindingSource.EVALUATION).order_by("-opened_at", "-id")


def findings_for_run(run: EvaluationRun) -> QuerySet[Finding]:
    return finding_list().filter(detail__run=run.pk)


def evidence_for_review(review) -> QuerySet[EvidenceLink]:
    return EvidenceLink.objects.filter(review_item__review=review).select_related(
        "review_item", "run__suite", "finding"
    )


def latest_passing_run(*, suite, deployment, max_age_days: int | None = None) -> EvaluationRun | None:
    """The newest passing run that may satisfy a required suite: a worker's, or an upload an admin accepted."""
    runs = EvaluationRun.objects.filter(suite=suite, deployment=deployment, state=RunState.SUCCEEDED, passed=True)
    runs = runs.exclude(task_id=UPLOAD_TASK_ID, accepted_at__isnull=True)
    if max_age_days is not None:
        runs = runs.filter(finished_at__gte=timezone.now() - timedelta(days=max_age_days))
    return runs.order_by("-finished_at").first()


def review_submission_blockers(review) -> list[str]:
    """Why the review may not be submitted yet: each required suite lacking a recent passing run (contract)."""
    requirements = SuiteRequirement.objects.filter(policy_id=review.policy_id).select_related("suite")
    blockers = []
    for requirement in requirements:
        if (
            latest_passing_run(
                suite=requirement.suite, deployment=review.deployment, max_age_days=requirement.max_age_days
            )
            is None
        ):
            blockers.append(
                f"The policy requires a passing run of evaluation suite {requirement.suite.name!r} on this "
                f"deployment from the last {requirement.max_age_days} days; there is none (an uploaded results "
                "file counts once an admin accepts it)."
            )
    return blockers
