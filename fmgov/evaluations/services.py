"""Writes for suites, schedules, runs and findings: atomic, audited, one function per action.

Run lifecycle (see ``tasks.py`` for who calls what):

    run_request → queued ─ run_claim → running ─ run_complete → succeeded
                     │                     ├──── run_fail → failed
                     └─ run_cancel ────────┴──── run_cancel → cancelled

``run_claim`` and ``run_complete`` are where exactly-once lives: a run is
claimed by one Celery message at a time (the same message redelivered after
its worker died may take it over; another message only once the heartbeat is
stale), and only the current claim holder may write its results, once, under
the ``(run, name)`` unique constraint on metrics.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import timedelta
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.services import audit_record, diff, snapshot
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.evaluations.choices import (
    FINDING_TRANSITIONS,
    RUN_FINAL_STATES,
    THRESHOLD_OPS,
    FindingStatus,
    RunState,
    Severity,
)
from fmgov.evaluations.evaluators import REGISTRY, EvaluationResult, config_errors, get_evaluator, threshold_errors
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite, Finding, RunMetric

__all__ = [
    "suite_create",
    "suite_update",
    "schedule_create",
    "schedule_update",
    "schedule_delete",
    "run_request",
    "run_cancel",
    "run_claim",
    "run_progress",
    "run_complete",
    "run_fail",
    "run_import_results",
    "runs_requeue_orphaned",
    "runs_fail_stuck",
    "finding_acknowledge",
    "finding_resolve",
    "evidence_link_create",
    "evidence_link_delete",
    "suite_requirement_create",
    "suite_requirement_delete",
    "stale_after_seconds",
    "hard_limit_seconds",
]

logger = logging.getLogger(__name__)
SYSTEM = "fmgov.evaluations"
MAX_ATTEMPTS = 3
SUITE_FIELDS = ("name", "description", "evaluator", "config", "thresholds", "concurrency")


def stale_after_seconds() -> int:
    """A running run whose heartbeat is older than this has lost its worker (FMGOV_EVALUATION_STALE_SECONDS)."""
    return int(
        getattr(settings, "FMGOV_EVALUATION_STALE_SECONDS", 0) or _env_int("FMGOV_EVALUATION_STALE_SECONDS", 120)
    )


def hard_limit_seconds() -> int:
    """Past this a running run is failed by the beat task: the task's hard limit plus a minute of grace."""
    return int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 1800)) + 60


def _env_int(name: str, default: int) -> int:
    import os

    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


# --- writers and checks ------------------------------------------------------------------------------------


def _ensure_engineer(actor) -> None:
    if not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may do this.")


def _ensure_owner_or_admin(actor, owner_id: int | None, what: str) -> None:
    if has_role(actor, Role.ADMIN):
        return
    if owner_id != getattr(actor, "pk", None):
        raise NotAllowed(f"Only the owner of the {what} or an admin may do this.")


def _validate_suite_fields(fields: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    name = fields.get("evaluator")
    if name not in REGISTRY:
        errors["evaluator"] = [f"Unknown evaluator {name!r}; choose one of {', '.join(sorted(REGISTRY))}."]
        raise InvalidInput("The suite is not valid.", field_errors=errors)
    evaluator = get_evaluator(name)
    if problems := config_errors(evaluator, fields.get("config", {})):
        errors["config"] = problems
    if problems := threshold_errors(evaluator, fields.get("thresholds", {})):
        errors["thresholds"] = problems
    concurrency = fields.get("concurrency", 4)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        errors["concurrency"] = ["Give a whole number of concurrent requests from 1 to 64."]
    if not str(fields.get("name", "")).strip():
        errors["name"] = ["Give the suite a name."]
    if errors:
        raise InvalidInput("The suite is not valid.", field_errors=errors)


@transaction.atomic
def suite_create(
    *,
    actor,
    name: str,
    evaluator: str,
    config: dict | None = None,
    thresholds: dict | None = None,
    concurrency: int = 4,
    description: str = "",
) -> EvaluationSuite:
    _ensure_engineer(actor)
    fields = {
        "name": name,
        "evaluator": evaluator,
        "config": {} if config is None else config,
        "thresholds": {} if thresholds is None else thresholds,
        "concurrency": concurrency,
        "description": description,
    }
    _validate_suite_fields(fields)
    if EvaluationSuite.objects.filter(name=name).exists():
        raise InvalidInput("The suite is not valid.", field_errors={"name": ["A suite with this name exists."]})
    suite = EvaluationSuite.objects.create(owner=actor, **fields)
    audit_record(action="evaluation_suite.create", actor=actor, obj=suite, changes={"after": snapshot(suite)})
    return suite


@transaction.atomic
def suite_update(*, suite: EvaluationSuite, actor, **fields: Any) -> EvaluationSuite:
    _ensure_engineer(actor)
    suite = EvaluationSuite.objects.select_for_update().get(pk=suite.pk)
    _ensure_owner_or_admin(actor, suite.owner_id, "suite")
    unknown = set(fields) - set(SUITE_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", field_errors={f: ["This field cannot be changed."] for f in unknown})
    before = snapshot(suite)
    merged = {f: fields.get(f, getattr(suite, f)) for f in SUITE_FIELDS}
    _validate_suite_fields(merged)
    if "name" in fields and EvaluationSuite.objects.filter(name=fields["name"]).exclude(pk=suite.pk).exists():
        raise InvalidInput("The suite is not valid.", field_errors={"name": ["A suite with this name exists."]})
    for field, value in fields.items():
        setattr(suite, field, value)
    suite.save()
    audit_record(action="evaluation_suite.update", actor=actor, obj=suite, changes=diff(before, snapshot(suite)))
    return suite


# --- schedules -----------------------------------------------------------------------------------------------

RUN_SCHEDULED_TASK = "fmgov.evaluations.tasks.run_scheduled_evaluation"


def _parse_cron(cron: str) -> list[str]:
    parts = str(cron or "").split()
    if len(parts) != 5:
        raise InvalidInput(
            "The cron expression is not valid.",
            field_errors={"cron": ["Give five fields: minute hour day-of-month month day-of-week (UTC)."]},
        )
    minute, hour, dom, month, dow = parts
    try:
        crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    except (ValueError, KeyError) as exc:
        raise InvalidInput("The cron expression is not valid.", field_errors={"cron": [f"Not a valid cron: {exc}"]})
    return parts


def _sync_periodic_task(schedule: EvaluationSchedule) -> None:
    """Create or update the django-celery-beat row that fires this schedule."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    minute, hour, dom, month, dow = _parse_cron(schedule.cron)
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow, timezone="UTC"
    )
    values = {
        "task": RUN_SCHEDULED_TASK,
        "crontab": cron,
        "interval": None,
        "kwargs": json.dumps({"schedule_id": schedule.pk}),
        "queue": "evaluations",
        "enabled": schedule.enabled,
        "description": f"Evaluation suite {schedule.suite.name!r} on deployment {schedule.deployment}",
    }
    task = schedule.periodic_task
    if task is None:
        task = PeriodicTask.objects.filter(name=schedule.periodic_task_name).first()
    if task is None:
        task = PeriodicTask.objects.create(name=schedule.periodic_task_name, **values)
    else:
        for key, value in values.items():
            setattr(task, key, value)
        task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task", "updated_at"])


@transaction.atomic
def schedule_create(
    *, actor, suite: EvaluationSuite, deployment, cron: str, enabled: bool = True
) -> EvaluationSchedule:
    _ensure_engineer(actor)
    _ensure_owner_or_admin(actor, deployment.owner_id, "deployment")
    _parse_cron(cron)
    _check_runnable(suite, deployment)
    if EvaluationSchedule.objects.filter(suite=suite, deployment=deployment).exists():
        raise InvalidInput(
            "The schedule is not valid.", field_errors={"suite": ["This suite is already scheduled on the deployment."]}
        )
    schedule = EvaluationSchedule.objects.create(
        suite=suite, deployment=deployment, cron=" ".join(cron.split()), enabled=enabled, owner=actor
    )
    _sync_periodic_task(schedule)
    audit_record(action="evaluation_schedule.create", actor=actor, obj=schedule, changes={"after": snapshot(schedule)})
    return schedule


@transaction.atomic
def schedule_update(
    *, schedule: EvaluationSchedule, actor, cron: str | None = None, enabled: bool | None = None
) -> EvaluationSchedule:
    _ensure_engineer(actor)
    schedule = EvaluationSchedule.objects.select_for_update().select_related("suite", "deployment").get(pk=schedule.pk)
    _ensure_owner_or_admin(actor, schedule.owner_id, "schedule")
    before = snapshot(schedule)
    if cron is not None:
        _parse_cron(cron)
        schedule.cron = " ".join(cron.split())
    if enabled is not None:
        schedule.enabled = bool(enabled)
    schedule.save()
    _sync_periodic_task(schedule)
    audit_record(
        action="evaluation_schedule.update", actor=actor, obj=schedule, changes=diff(before, snapshot(schedule))
    )
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: EvaluationSchedule, actor) -> None:
    _ensure_engineer(actor)
    schedule = EvaluationSchedule.objects.select_for_update().get(pk=schedule.pk)
    _ensure_owner_or_admin(actor, schedule.owner_id, "schedule")
    before = snapshot(schedule)
    audit_record(action="evaluation_schedule.delete", actor=actor, obj=schedule, changes={"before": before})
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


# --- runs ----------------------------------------------------------------------------------------------------


def _check_runnable(suite: EvaluationSuite, deployment) -> None:
    evaluator = get_evaluator(suite.evaluator)
    if evaluator.needs is None:
        if suite.config.get("source", "upload") == "upload":
            raise InvalidInput(
                "This suite imports uploaded results.",
                field_errors={
                    "suite": ["Upload an lm-evaluation-harness results file to the suite's upload endpoint."]
                },
            )
        return
    adapter = deployment.endpoint_adapter
    wanted = {"chat": {"openai_chat"}, "embeddings": {"openai_embeddings", "local_sentence_transformers"}}
    if adapter not in wanted[evaluator.needs]:
        kinds = ", ".join(sorted(wanted[evaluator.needs]))
        raise InvalidInput(
            "The deployment cannot run this suite.",
            field_errors={
                "deployment": [
                    f"{suite.evaluator} needs a {evaluator.needs} endpoint ({kinds}); "
                    f"the deployment's endpoint adapter is {adapter!r}."
                ]
            },
        )


def _new_run(*, suite, deployment, actor, schedule, state=RunState.QUEUED) -> EvaluationRun:
    return EvaluationRun.objects.create(
        suite=suite,
        deployment=deployment,
        schedule=schedule,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        state=state,
        evaluator=suite.evaluator,
        config=suite.config,
        thresholds=suite.thresholds,
        concurrency=suite.concurrency,
        queued_at=timezone.now(),
    )


@transaction.atomic
def run_request(
    *, suite: EvaluationSuite, deployment, actor=None, schedule: EvaluationSchedule | None = None, system: str = ""
) -> EvaluationRun:
    """Queue a run; the worker task is sent only when this transaction commits."""
    if actor is not None:
        _ensure_engineer(actor)
    _check_runnable(suite, deployment)
    run = _new_run(suite=suite, deployment=deployment, actor=actor, schedule=schedule)
    audit_record(
        action="evaluation_run.request",
        actor=actor,
        system=system or ("" if actor else SYSTEM),
        obj=run,
        changes={"suite": suite.pk, "deployment": deployment.pk, "schedule": getattr(schedule, "pk", None)},
    )
    from fmgov.evaluations import tasks

    enqueue_on_commit(tasks.execute_run, run.pk)
    return run


@transaction.atomic
def run_cancel(*, run: EvaluationRun, actor) -> EvaluationRun:
    run = EvaluationRun.objects.select_for_update().select_related("deployment").get(pk=run.pk)
    allowed = has_role(actor, Role.ADMIN) or actor.pk in (run.requested_by_id, run.deployment.owner_id)
    if not allowed:
        raise NotAllowed("Only whoever requested the run, the deployment's owner or an admin may cancel it.")
    if run.state in RUN_FINAL_STATES:
        raise TransitionNotAllowed(f"The run is already {run.state}; it cannot be cancelled.")
    before = run.state
    run.state = RunState.CANCELLED
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "finished_at", "updated_at"])
    audit_record(action="evaluation_run.cancel", actor=actor, obj=run, changes={"state": [before, run.state]})
    return run


@transaction.atomic
def run_claim(*, run_id: int, task_id: str, worker: str = "") -> EvaluationRun | None:
    """Take the run for this Celery message, or return None when it must not run here.

    Runs in a final state are never run again. A running run is taken over only
    by the redelivery of the very message that was running it (its worker died:
    a live worker's message is not redelivered, the broker's visibility timeout
    being longer than the hard time limit) or, for another message, once its
    heartbeat is stale.
    """
    run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.state in RUN_FINAL_STATES:
        return None
    now = timezone.now()
    if run.state == RunState.RUNNING:
        stale = run.heartbeat_at is None or run.heartbeat_at < now - timedelta(seconds=stale_after_seconds())
        if run.task_id != task_id and not stale:
            return None
    if run.attempts >= MAX_ATTEMPTS:
        _fail(run, f"The run lost its worker {run.attempts} times; giving up.")
        return None
    previous = {"state": run.state, "task_id": run.task_id, "worker": run.worker}
    run.state = RunState.RUNNING
    run.task_id = task_id
    run.worker = worker
    run.attempts += 1
    run.started_at = now
    run.heartbeat_at = now
    run.progress = 0
    run.save(
        update_fields=["state", "task_id", "worker", "attempts", "started_at", "heartbeat_at", "progress", "updated_at"]
    )
    audit_record(
        action="evaluation_run.start",
        system=SYSTEM,
        obj=run,
        changes={"state": [previous["state"], run.state], "attempt": run.attempts, "previous": previous},
    )
    return run


def run_progress(*, run_id: int, task_id: str, progress: int | None = None) -> str:
    """Heartbeat (and progress) from the claim holder; returns the run's state so the worker can stop."""
    now = timezone.now()
    fields = {"heartbeat_at": now}
    if progress is not None:
        fields["progress"] = max(0, min(99, int(progress)))
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().filter(pk=run_id).only("state", "task_id").first()
        if run is None:
            return RunState.CANCELLED
        if run.state != RunState.RUNNING or run.task_id != task_id:
            return run.state if run.state != RunState.RUNNING else "taken_over"
        for key, value in fields.items():
            setattr(run, key, value)
        run.save(update_fields=list(fields))
        return run.state


def _fail(run: EvaluationRun, error: str) -> None:
    before = run.state
    run.state = RunState.FAILED
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error", "finished_at", "updated_at"])
    audit_record(
        action="evaluation_run.fail", system=SYSTEM, obj=run, changes={"state": [before, run.state], "error": run.error}
    )


@transaction.atomic
def run_fail(*, run_id: int, task_id: str, error: str) -> bool:
    run = EvaluationRun.objects.select_for_update().get(pk=run_id)
    if run.state != RunState.RUNNING or run.task_id != task_id:
        return False
    _fail(run, error)
    return True


def _evaluate_thresholds(run: EvaluationRun, result: EvaluationResult) -> tuple[list[RunMetric], list[RunMetric]]:
    evaluator = get_evaluator(run.evaluator)
    metrics, failed = [], []
    for name, value in sorted(result.metrics.items()):
        if value is None or not math.isfinite(value):
            continue
        rule = run.thresholds.get(name)
        passed = THRESHOLD_OPS[rule["op"]](value, rule["value"]) if rule else None
        higher = result.higher_is_better.get(name, evaluator.higher_is_better(name))
        metric = RunMetric(
            run=run, name=name, value=float(value), higher_is_better=higher, threshold=rule, passed=passed
        )
        metrics.append(metric)
        if passed is False:
            failed.append(metric)
    return metrics, failed


@transaction.atomic
def run_complete(*, run_id: int, task_id: str, result: EvaluationResult) -> EvaluationRun | None:
    """Write the run's metrics exactly once, open findings for breaches and revoke approvals downstream."""
    run = EvaluationRun.objects.select_for_update().select_related("deployment", "suite").get(pk=run_id)
    if run.state != RunState.RUNNING or run.task_id != task_id:
        return None
    metrics, failed = _evaluate_thresholds(run, result)
    try:
        with transaction.atomic():
            RunMetric.objects.bulk_create(metrics)
    except IntegrityError:
        logger.warning("run %s: metrics already written by another delivery; discarding this one", run_id)
        return None
    produced = {m.name for m in metrics}
    missing = sorted(set(run.thresholds) - produced)
    run.state = RunState.SUCCEEDED
    run.progress = 100
    run.finished_at = timezone.now()
    run.passed = not failed and not missing
    run.samples = result.samples[:50]
    run.details = {**result.details, **({"thresholds_without_metric": missing} if missing else {})}
    run.save(update_fields=["state", "progress", "finished_at", "passed", "samples", "details", "updated_at"])
    audit_record(
        action="evaluation_run.finish",
        system=SYSTEM,
        obj=run,
        changes={
            "state": [RunState.RUNNING, run.state],
            "passed": run.passed,
            "metrics": {m.name: m.value for m in metrics},
            "failed": [m.name for m in failed],
        },
    )
    for metric in failed:
        _open_finding(run, metric)
    return run


def _open_finding(run: EvaluationRun, metric: RunMetric) -> Finding:
    finding = Finding.objects.create(
        run=run,
        deployment=run.deployment,
        metric=metric.name,
        value=metric.value,
        threshold=metric.threshold,
        severity=metric.threshold.get("severity", Severity.HIGH),
    )
    audit_record(
        action="finding.open",
        system=SYSTEM,
        obj=finding,
        changes={
            "run": run.pk,
            "deployment": run.deployment_id,
            "metric": metric.name,
            "value": metric.value,
            "threshold": metric.threshold,
        },
    )
    revoked = _revoke_downstream_approvals(finding)
    from fmgov.evaluations import tasks

    transaction.on_commit(lambda: tasks.notify_finding.delay(finding.pk, revoked))
    return finding


def _revoke_downstream_approvals(finding: Finding) -> list[int]:
    """Revoke the current approved review of the deployment and of every deployment downstream of its target."""
    from fmgov.registry.selectors import deployments_affected_by
    from fmgov.reviews.selectors import current_approved_review
    from fmgov.reviews.services import review_revoke

    deployment = finding.deployment
    if deployment.foundation_model_id:
        affected = deployments_affected_by(model_id=deployment.foundation_model_id)
    else:
        affected = deployments_affected_by(adaptation_id=deployment.adaptation_id)
    revoked = []
    reason = (
        f"Evaluation finding #{finding.pk}: {finding.metric} = {finding.value:g} breaches "
        f"{finding.threshold['op']} {finding.threshold['value']} on deployment {deployment} (run #{finding.run_id})."
    )
    for target in affected.order_by("pk"):
        review = current_approved_review(target)
        if review is None:
            continue
        review_revoke(review=review, actor=None, system=SYSTEM, reason=reason, finding=finding)
        revoked.append(review.pk)
    return revoked


@transaction.atomic
def run_import_results(
    *, suite: EvaluationSuite, deployment, actor, result: EvaluationResult, source: str
) -> EvaluationRun:
    """An imported results file becomes a finished run, thresholds and findings included (no worker needed)."""
    _ensure_engineer(actor)
    if get_evaluator(suite.evaluator).needs is not None:
        raise InvalidInput(
            "Wrong suite.", field_errors={"suite": ["Only lm_eval_import suites take uploaded results."]}
        )
    run = _new_run(suite=suite, deployment=deployment, actor=actor, schedule=None)
    audit_record(
        action="evaluation_run.import",
        actor=actor,
        obj=run,
        changes={"suite": suite.pk, "deployment": deployment.pk, "source": source, "metrics": len(result.metrics)},
    )
    now = timezone.now()
    run.state, run.task_id, run.started_at, run.heartbeat_at, run.attempts = RunState.RUNNING, "import", now, now, 1
    run.save(update_fields=["state", "task_id", "started_at", "heartbeat_at", "attempts", "updated_at"])
    return run_complete(run_id=run.pk, task_id="import", result=result)


def runs_requeue_orphaned(*, stale_after: int | None = None) -> list[int]:
    """Re-queue running runs whose worker died (stale heartbeat), for brokers that cannot redeliver,
    and re-send queued runs whose message never reached a worker."""
    stale_after = stale_after if stale_after is not None else stale_after_seconds()
    cutoff = timezone.now() - timedelta(seconds=stale_after)
    requeued = []
    candidates = EvaluationRun.objects.filter(state=RunState.RUNNING, heartbeat_at__lt=cutoff).values_list(
        "pk", flat=True
    )
    for run_id in list(candidates):
        with transaction.atomic():
            run = EvaluationRun.objects.select_for_update().get(pk=run_id)
            if run.state != RunState.RUNNING or run.heartbeat_at >= cutoff:
                continue
            if run.attempts >= MAX_ATTEMPTS:
                _fail(run, f"The run lost its worker {run.attempts} times; giving up.")
                continue
            previous = {"task_id": run.task_id, "worker": run.worker, "heartbeat_at": run.heartbeat_at.isoformat()}
            run.state = RunState.QUEUED
            run.queued_at = timezone.now()
            run.save(update_fields=["state", "queued_at", "updated_at"])
            audit_record(
                action="evaluation_run.requeue",
                system=SYSTEM,
                obj=run,
                changes={"state": [RunState.RUNNING, RunState.QUEUED], "reason": "worker heartbeat stale", **previous},
            )
            from fmgov.evaluations import tasks

            enqueue_on_commit(tasks.execute_run, run.pk)
            requeued.append(run.pk)
    # A queued run never started within the hard limit lost its message (a broker restart without
    # persistence): send it again. A duplicate is harmless: run_claim lets one message run it.
    never_started = timezone.now() - timedelta(seconds=hard_limit_seconds())
    for run_id in list(
        EvaluationRun.objects.filter(state=RunState.QUEUED, queued_at__lt=never_started).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            run = EvaluationRun.objects.select_for_update().get(pk=run_id)
            if run.state != RunState.QUEUED or run.queued_at >= never_started:
                continue
            run.queued_at = timezone.now()
            run.save(update_fields=["queued_at", "updated_at"])
            audit_record(
                action="evaluation_run.requeue",
                system=SYSTEM,
                obj=run,
                changes={"state": [RunState.QUEUED, RunState.QUEUED], "reason": "queued past the hard limit"},
            )
            from fmgov.evaluations import tasks

            enqueue_on_commit(tasks.execute_run, run.pk)
            requeued.append(run.pk)
    return requeued


def runs_fail_stuck(*, hard_limit: int | None = None) -> list[int]:
    """Mark failed the runs still running past the hard time limit."""
    hard_limit = hard_limit if hard_limit is not None else hard_limit_seconds()
    cutoff = timezone.now() - timedelta(seconds=hard_limit)
    failed = []
    for run_id in list(
        EvaluationRun.objects.filter(state=RunState.RUNNING, started_at__lt=cutoff).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            run = EvaluationRun.objects.select_for_update().get(pk=run_id)
            if run.state == RunState.RUNNING and run.started_at < cutoff:
                _fail(run, f"The run was still running {hard_limit} s after it started (past the hard time limit).")
                failed.append(run.pk)
    return failed


# --- findings ------------------------------------------------------------------------------------------------


def _finding_transition(*, finding: Finding, actor, to: str, note: str, action: str) -> Finding:
    finding = Finding.objects.select_for_update().select_related("deployment").get(pk=finding.pk)
    if to not in FINDING_TRANSITIONS[finding.status]:
        raise TransitionNotAllowed(f"A finding that is {finding.status} cannot become {to}.")
    before = finding.status
    now = timezone.now()
    finding.status = to
    if note:
        finding.note = note
    if to == FindingStatus.ACKNOWLEDGED:
        finding.acknowledged_by, finding.acknowledged_at = actor, now
    else:
        finding.resolved_by, finding.resolved_at = actor, now
    finding.save()
    audit_record(action=action, actor=actor, obj=finding, changes={"status": [before, to], "note": note})
    return finding


@transaction.atomic
def finding_acknowledge(*, finding: Finding, actor, note: str = "") -> Finding:
    """By a reviewer, an admin or the deployment's owner."""
    if not (has_role(actor, Role.REVIEWER, Role.ADMIN) or finding.deployment.owner_id == actor.pk):
        raise NotAllowed("Only reviewers, admins and the deployment's owner may acknowledge a finding.")
    return _finding_transition(
        finding=finding, actor=actor, to=FindingStatus.ACKNOWLEDGED, note=note, action="finding.acknowledge"
    )


@transaction.atomic
def finding_resolve(*, finding: Finding, actor, note: str = "") -> Finding:
    """By a reviewer or an admin, with a note saying how it was resolved."""
    if not has_role(actor, Role.REVIEWER, Role.ADMIN):
        raise NotAllowed("Only reviewers and admins may resolve a finding.")
    if not note.strip():
        raise InvalidInput("Say how it was resolved.", field_errors={"note": ["Say how the finding was resolved."]})
    return _finding_transition(
        finding=finding, actor=actor, to=FindingStatus.RESOLVED, note=note, action="finding.resolve"
    )


# --- evidence and policy requirements ---------------------------------------------------------------------


@transaction.atomic
def evidence_link_create(
    *, actor, review_item, run: EvaluationRun | None = None, finding: Finding | None = None, note: str = ""
):
    """Cite a run or a finding on a review item; the run or finding must concern the review's deployment."""
    from fmgov.evaluations.models import EvidenceLink

    _ensure_engineer(actor)
    if (run is None) == (finding is None):
        message = "Link exactly one run or one finding."
        raise InvalidInput(message, field_errors={"run": [message], "finding": [message]})
    deployment_id = review_item.review.deployment_id
    target = run or finding
    if target.deployment_id != deployment_id:
        field = "run" if run else "finding"
        raise InvalidInput(
            "Wrong deployment.", field_errors={field: ["It concerns another deployment than the review."]}
        )
    lookup = {"review_item": review_item, "run": run, "finding": finding}
    if EvidenceLink.objects.filter(**lookup).exists():
        raise InvalidInput(
            "Already linked.", field_errors={"run" if run else "finding": ["Already linked to this item."]}
        )
    link = EvidenceLink.objects.create(created_by=actor, note=note, **lookup)
    audit_record(
        action="evidence_link.create",
        actor=actor,
        obj=link,
        changes={
            "review_item": review_item.pk,
            "run": getattr(run, "pk", None),
            "finding": getattr(finding, "pk", None),
        },
    )
    return link


@transaction.atomic
def evidence_link_delete(*, actor, link) -> None:
    _ensure_engineer(actor)
    _ensure_owner_or_admin(actor, link.created_by_id, "evidence link")
    audit_record(action="evidence_link.delete", actor=actor, obj=link, changes={"before": snapshot(link)})
    link.delete()


@transaction.atomic
def suite_requirement_create(*, actor, policy, suite: EvaluationSuite, max_age_days: int = 30):
    """Admins only: the policy's reviews need a passing run of ``suite`` younger than ``max_age_days``."""
    from fmgov.evaluations.models import SuiteRequirement

    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins change review policies.")
    if SuiteRequirement.objects.filter(policy=policy, suite=suite).exists():
        raise InvalidInput("Already required.", field_errors={"suite": ["The policy already requires this suite."]})
    requirement = SuiteRequirement.objects.create(policy=policy, suite=suite, max_age_days=max_age_days)
    audit_record(
        action="suite_requirement.create", actor=actor, obj=requirement, changes={"after": snapshot(requirement)}
    )
    return requirement


@transaction.atomic
def suite_requirement_delete(*, actor, requirement) -> None:
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins change review policies.")
    audit_record(
        action="suite_requirement.delete", actor=actor, obj=requirement, changes={"before": snapshot(requirement)}
    )
    requirement.delete()
