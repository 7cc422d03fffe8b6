"""The run lifecycle a worker drives: request, cancel, claim, heartbeat, fail and complete.

``run_claim`` and ``run_complete`` are where exactly-once lives (see the package docstring).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.services import audit_record, created, diff
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.evaluations.choices import RUN_FINAL_STATES, RunState
from fmgov.evaluations.evaluators import EvaluationResult, get_evaluator
from fmgov.evaluations.evaluators.base import as_estimate
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite, RunMetric
from fmgov.evaluations.services.common import (
    MAX_ATTEMPTS,
    SYSTEM,
    _enqueue,
    _ensure_deployment_owner,
    stale_after_seconds,
)
from fmgov.evaluations.services.findings import evaluation_finding_open
from fmgov.evaluations.services.thresholds import threshold_judge
from fmgov.registry.choices import adapters_with

# The logger keeps the name it had before services.py became a package.
logger = logging.getLogger("fmgov.evaluations.services")


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
    wanted = adapters_with(evaluator.needs)
    if adapter not in wanted:
        kinds = ", ".join(sorted(wanted))
        raise InvalidInput(
            "The deployment cannot run this suite.",
            field_errors={
                "deployment": [
                    f"{suite.evaluator} needs {'an' if evaluator.needs[0] in 'aeiou' else 'a'} "
                    f"{evaluator.needs} endpoint ({kinds}); "
                    f"the deployment's endpoint adapter is {adapter!r}."
                ]
            },
        )


def _new_run(*, suite, deployment, actor: Actor, schedule, state=RunState.QUEUED) -> EvaluationRun:
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
    *,
    suite: EvaluationSuite,
    deployment,
    actor: Actor = None,
    schedule: EvaluationSchedule | None = None,
    system: str = "",
) -> EvaluationRun:
    """Queue a run; the worker task is sent only when this transaction commits."""
    if actor is not None:
        _ensure_deployment_owner(actor, deployment, doing="request evaluation runs on it")
    _check_runnable(suite, deployment)
    run = _new_run(suite=suite, deployment=deployment, actor=actor, schedule=schedule)
    audit_record(
        action="evaluation_run.request",
        actor=actor,
        system=system or ("" if actor else SYSTEM),
        obj=run,
        changes=created({"suite": suite.pk, "deployment": deployment.pk, "schedule": getattr(schedule, "pk", None)}),
    )
    from fmgov.evaluations import tasks

    _enqueue(tasks.execute_run, run.pk)
    return run


@transaction.atomic
def run_cancel(*, run: EvaluationRun, actor: Actor) -> EvaluationRun:
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
        changes={
            "state": [previous["state"], run.state],
            "attempts": [run.attempts - 1, run.attempts],
            **diff(previous, {"state": run.state, "task_id": run.task_id, "worker": run.worker}),
        },
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
    before, previous_error = run.state, run.error
    run.state = RunState.FAILED
    run.error = error[:5000]
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "error", "finished_at", "updated_at"])
    audit_record(
        action="evaluation_run.fail",
        system=SYSTEM,
        obj=run,
        changes={"state": [before, run.state], "error": [previous_error, run.error]},
    )


@transaction.atomic
def run_fail(*, run_id: int, task_id: str, error: str) -> bool:
    run = EvaluationRun.objects.select_for_update().get(pk=run_id)
    if run.state != RunState.RUNNING or run.task_id != task_id:
        return False
    _fail(run, error)
    return True


def _evaluate_thresholds(run: EvaluationRun, result: EvaluationResult) -> tuple[list[RunMetric], list[RunMetric]]:
    """One row per reported metric with its interval; an insufficient one is kept with a null value."""
    evaluator = get_evaluator(run.evaluator)
    metrics, failed = [], []
    for name, reported in sorted(result.metrics.items()):
        estimate = as_estimate(reported)
        rule = run.thresholds.get(name)
        passed = threshold_judge(rule, estimate)
        higher = result.higher_is_better.get(name, evaluator.higher_is_better(name))
        metric = RunMetric(
            run=run,
            name=name,
            value=estimate.value,
            n=estimate.n,
            ci_low=estimate.ci_low,
            ci_high=estimate.ci_high,
            method=estimate.method[:200],
            insufficient=estimate.insufficient,
            higher_is_better=higher,
            threshold=rule,
            passed=passed,
        )
        metrics.append(metric)
        if passed is False:
            failed.append(metric)
    return metrics, failed


def _run_verdict(metrics: list[RunMetric], failed: list[RunMetric], missing: list[str]) -> bool | None:
    """False on a breach or a threshold without its metric; None (inconclusive) when a metric is
    insufficient or a threshold could not be judged; True otherwise. Only True passes a required suite."""
    if failed or missing:
        return False
    if any(m.insufficient or (m.threshold and m.passed is None) for m in metrics):
        return None
    return True


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
    run.passed = _run_verdict(metrics, failed, missing)
    run.samples = result.samples[:50]
    inconclusive = sorted(m.name for m in metrics if m.insufficient or (m.threshold and m.passed is None))
    run.details = {
        **result.details,
        **({"thresholds_without_metric": missing} if missing else {}),
        **({"inconclusive_metrics": inconclusive} if inconclusive else {}),
    }
    run.save(update_fields=["state", "progress", "finished_at", "passed", "samples", "details", "updated_at"])
    audit_record(
        action="evaluation_run.finish",
        system=SYSTEM,
        obj=run,
        changes={"state": [RunState.RUNNING, run.state], "passed": [None, run.passed]},
        context={
            "metrics": {m.name: m.value for m in metrics},
            "intervals": {m.name: [m.n, m.ci_low, m.ci_high] for m in metrics if m.n is not None},
            "failed": [m.name for m in failed],
        },
    )
    for metric in failed:
        evaluation_finding_open(run, metric)
    return run
