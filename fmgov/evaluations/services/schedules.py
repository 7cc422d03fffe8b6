"""Schedules: a suite on a deployment on a cron, kept in step with its django-celery-beat row."""

from __future__ import annotations

import json

from celery.schedules import crontab
from django.db import transaction

from audits.services import audit_record, created, deleted, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.evaluations.models import EvaluationSchedule, EvaluationSuite
from fmgov.evaluations.services.common import _ensure_engineer, _ensure_owner_or_admin
from fmgov.evaluations.services.runs import _check_runnable

RUN_SCHEDULED_TASK = "fmgov.evaluations.tasks.run_scheduled_evaluation"
# The one list of a schedule's writable fields, in display order (serializer and form derive theirs); after
# creation only SCHEDULE_UPDATE_FIELDS change: the suite and the deployment are what the schedule is.
SCHEDULE_FIELDS = ("suite", "deployment", "cron", "enabled")
SCHEDULE_UPDATE_FIELDS = ("cron", "enabled")


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
    *, actor: Actor, suite: EvaluationSuite, deployment, cron: str, enabled: bool = True
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
    audit_record(action="evaluation_schedule.create", actor=actor, obj=schedule, changes=created(snapshot(schedule)))
    return schedule


@transaction.atomic
def schedule_update(
    *, schedule: EvaluationSchedule, actor: Actor, cron: str | None = None, enabled: bool | None = None
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
def schedule_delete(*, schedule: EvaluationSchedule, actor: Actor) -> None:
    _ensure_engineer(actor)
    schedule = EvaluationSchedule.objects.select_for_update().get(pk=schedule.pk)
    _ensure_owner_or_admin(actor, schedule.owner_id, "schedule")
    before = snapshot(schedule)
    audit_record(action="evaluation_schedule.delete", actor=actor, obj=schedule, changes=deleted(before))
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


@transaction.atomic
def schedules_move(*, source, target, actor: Actor) -> list[int]:
    """Hand a deployment's schedules to the revision replacing it (the registry's go-live asks, via a hook).

    A suite the revision already has scheduled keeps the revision's own
    schedule and the old one is switched off; a suite the revision's endpoint
    cannot run moves switched off, with the reason. One event per schedule.
    """
    moved = []
    taken = set(EvaluationSchedule.objects.filter(deployment=target).values_list("suite_id", flat=True))
    rows = EvaluationSchedule.objects.select_for_update().select_related("suite").filter(deployment=source)
    for schedule in rows.order_by("pk"):
        before, note = snapshot(schedule), ""
        if schedule.suite_id in taken:
            schedule.enabled, note = False, f"the revision {target} has its own schedule of this suite"
        else:
            schedule.deployment = target
            try:
                _check_runnable(schedule.suite, target)
            except InvalidInput as exc:
                why = " ".join(m for messages in exc.field_errors.values() for m in messages) or exc.message
                schedule.enabled, note = False, f"cannot run on the revision: {why}"
        schedule.save()
        _sync_periodic_task(schedule)
        context = {"reason": f"deployment {source} replaced by its revision {target}", "disabled": note or None}
        audit_record(
            action="evaluation_schedule.move",
            actor=actor,
            obj=schedule,
            changes=diff(before, snapshot(schedule)),
            context=context,
        )
        moved.append(schedule.pk)
    return moved
