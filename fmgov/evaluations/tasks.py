"""Celery tasks: one task per run on the ``evaluations`` queue, plus the sweepers and notifications.

Tasks load, call a service and report. ``execute_run`` hands its message to
``services.run_execute``, which is idempotent (claim, evaluate with a
heartbeat, write the results only while holding the claim). With
``acks_late`` and ``reject_on_worker_lost`` a worker killed mid-run leaves the
message unacknowledged; Redis redelivers it and the redelivered message takes
the run over. The filesystem broker cannot redeliver, so the
``requeue_orphaned_runs`` beat task re-queues runs whose heartbeat went stale.
``fail_stuck_runs`` fails runs still running past the hard time limit.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from fmgov.evaluations import services

__all__ = ["execute_run", "run_scheduled_evaluation", "requeue_orphaned_runs", "fail_stuck_runs", "notify_finding"]


@shared_task(
    bind=True,
    name="fmgov.evaluations.tasks.execute_run",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
)
def execute_run(self, run_id: int) -> str:
    """Run one evaluation for this message; the result says what happened (succeeded, skipped, failed, ...)."""
    task_id = self.request.id or f"eager-{run_id}"
    return services.run_execute(run_id=run_id, task_id=task_id, worker=self.request.hostname or "")


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
    User = get_user_model()
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
