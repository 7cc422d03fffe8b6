"""Celery tasks: one task per run on the ``evaluations`` queue, plus the sweepers and notifications.

``execute_run`` is idempotent: it claims the run (``services.run_claim``),
evaluates with a heartbeat thread beating meanwhile, and writes the results
only if it still holds the claim (``services.run_complete``). With
``acks_late`` and ``reject_on_worker_lost`` a worker killed mid-run leaves the
message unacknowledged; Redis redelivers it and the redelivered message takes
the run over. The filesystem broker cannot redeliver, so the
``requeue_orphaned_runs`` beat task re-queues runs whose heartbeat went stale.
``fail_stuck_runs`` fails runs still running past the hard time limit.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import close_old_connections, connection

from fmgov.evaluations import services
from fmgov.evaluations.adapters import AdapterError, adapter_for_deployment
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import EvaluationContext, get_evaluator

__all__ = ["execute_run", "run_scheduled_evaluation", "requeue_orphaned_runs", "fail_stuck_runs", "notify_finding"]

logger = logging.getLogger(__name__)


class RunStopped(Exception):
    """The run was cancelled or taken over while this worker evaluated it."""


class Heartbeat(threading.Thread):
    """Beats while the evaluation runs, so a slow request never makes a live run look orphaned."""

    def __init__(self, run_id: int, task_id: str, every: float):
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.run_id, self.task_id, self.every = run_id, task_id, every
        self.stopped = threading.Event()
        self.state: str = RunState.RUNNING

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.every):
                self.state = services.run_progress(run_id=self.run_id, task_id=self.task_id)
        except Exception:  # a heartbeat must never take the run down
            logger.exception("heartbeat of run %s failed", self.run_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)


@shared_task(
    bind=True,
    name="fmgov.evaluations.tasks.execute_run",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def execute_run(self, run_id: int) -> str:
    task_id = self.request.id or f"eager-{run_id}"
    run = services.run_claim(run_id=run_id, task_id=task_id, worker=self.request.hostname or "")
    if run is None:
        return "skipped"
    evaluator = get_evaluator(run.evaluator)
    heartbeat = Heartbeat(run_id, task_id, every=max(1.0, services.stale_after_seconds() / 4))
    heartbeat.start()
    last_write = 0.0

    def progress(fraction: float) -> None:
        nonlocal last_write
        if heartbeat.state != RunState.RUNNING:
            raise RunStopped(heartbeat.state)
        now = time.monotonic()
        if now - last_write < 0.5 and fraction < 1:
            return
        last_write = now
        state = services.run_progress(run_id=run_id, task_id=task_id, progress=int(fraction * 100))
        if state != RunState.RUNNING:
            raise RunStopped(state)

    adapter = None
    try:
        if evaluator.needs is not None:
            adapter = adapter_for_deployment(run.deployment, concurrency=run.concurrency, suite_config=run.config)
        context = EvaluationContext(
            config=run.config,
            adapter=adapter,
            deployment=run.deployment,
            concurrency=run.concurrency,
            progress=progress,
        )
        result = evaluator.run(context)
    except RunStopped as stopped:
        return f"stopped ({stopped})"
    except SoftTimeLimitExceeded:
        services.run_fail(run_id=run_id, task_id=task_id, error="The run exceeded its soft time limit.")
        return "failed"
    except (AdapterError, ValueError) as exc:
        services.run_fail(run_id=run_id, task_id=task_id, error=str(exc))
        return "failed"
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        services.run_fail(run_id=run_id, task_id=task_id, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    finally:
        heartbeat.stop()
        if adapter is not None:
            adapter.close()
    if not connection.in_atomic_block:
        close_old_connections()  # the evaluation may have outlived the database connection
    done = services.run_complete(run_id=run_id, task_id=task_id, result=result)
    return "succeeded" if done is not None else "discarded"


@shared_task(name="fmgov.evaluations.tasks.run_scheduled_evaluation")
def run_scheduled_evaluation(schedule_id: int) -> int | None:
    """Fired by django-celery-beat for an ``EvaluationSchedule``."""
    from fmgov.evaluations.models import EvaluationSchedule

    schedule = EvaluationSchedule.objects.select_related("suite", "deployment").filter(pk=schedule_id).first()
    if schedule is None or not schedule.enabled:
        return None
    run = services.run_request(
        suite=schedule.suite, deployment=schedule.deployment, schedule=schedule, system="celery-beat"
    )
    return run.pk


@shared_task(name="fmgov.evaluations.tasks.requeue_orphaned_runs")
def requeue_orphaned_runs(stale_after: int | None = None) -> list[int]:
    return services.runs_requeue_orphaned(stale_after=stale_after)


@shared_task(name="fmgov.evaluations.tasks.fail_stuck_runs")
def fail_stuck_runs(hard_limit: int | None = None) -> list[int]:
    return services.runs_fail_stuck(hard_limit=hard_limit)


# Named outside "fmgov.evaluations.tasks.*" so that the "*.notify_*" route sends it to the notifications queue.
@shared_task(bind=True, name="fmgov.evaluations.notify_finding", acks_late=True)
def notify_finding(self, finding_id: int, revoked_reviews: list[int] | None = None) -> int:
    """Email the deployment's owner and the reviewers about a breached threshold, one message each."""
    from django.contrib.auth import get_user_model

    from fmgov.core.roles import Role
    from fmgov.findings.models import Finding
    from fmgov.notifications.services import email_send_once

    finding = Finding.objects.select_related("subject_type").get(pk=finding_id)
    deployment = finding.subject
    detail = finding.detail
    User = get_user_model()  # noqa: N806
    reviewers = User.objects.filter(groups__name=Role.REVIEWER, is_active=True).exclude(email="")
    recipients = sorted({deployment.owner.email, *reviewers.values_list("email", flat=True)} - {""})
    if not recipients:
        return 0
    threshold = detail["threshold"]
    lines = [
        f"The evaluation suite {detail.get('suite_name', '')!r} breached a threshold on deployment {deployment}.",
        "",
        f"Metric: {detail['metric']} = {detail['value']:g} (threshold {threshold['op']} {threshold['value']})",
        f"Severity: {finding.severity}",
        f"Run: #{detail['run']}   Finding: #{finding.pk}",
    ]
    if revoked_reviews:
        lines += ["", f"Approvals revoked (risk reviews): {', '.join(f'#{pk}' for pk in revoked_reviews)}"]
    return email_send_once(
        key=self.request.id,
        task_name=self.name,
        subject=f"[fmgov] Threshold breached: {detail['metric']} on {deployment}",
        body="\n".join(lines),
        recipients=recipients,
    )
