"""The beat task's sweeps: re-queue runs that lost their worker or message, fail runs past the hard limit."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun
from fmgov.evaluations.services.common import MAX_ATTEMPTS, SYSTEM, _enqueue, hard_limit_seconds, stale_after_seconds
from fmgov.evaluations.services.runs import _fail


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
                changes={"state": [RunState.RUNNING, RunState.QUEUED]},
                context={"reason": "worker heartbeat stale", **previous},
            )
            from fmgov.evaluations import tasks

            _enqueue(tasks.execute_run, run.pk)
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
            queued_at, run.queued_at = run.queued_at, timezone.now()
            run.save(update_fields=["queued_at", "updated_at"])
            audit_record(
                action="evaluation_run.requeue",
                system=SYSTEM,
                obj=run,
                changes={"queued_at": [queued_at, run.queued_at]},
                context={"reason": "queued past the hard limit"},
            )
            from fmgov.evaluations import tasks

            _enqueue(tasks.execute_run, run.pk)
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
