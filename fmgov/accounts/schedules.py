"""Admins retime, enable and disable the built-in periodic tasks (django-celery-beat rows), each change audited.

A disabled checkpoint or expiry sweep changes what the trail proves and when
approvals lapse, so it is a governance change like any other. Rows that fire an
evaluation schedule are changed through that schedule (``fmgov.evaluations``).
"""

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audits.services import audit_record, diff
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.schedules import builtin_schedule

__all__ = ["check_timing", "periodic_task_timing", "periodic_task_update"]


def periodic_task_timing(task: PeriodicTask) -> str:
    """The task's timing as an admin types it: ``every 5 minutes`` or a five-field cron (UTC)."""
    if task.interval_id:
        return f"every {task.interval.every} {task.interval.period}"
    if task.crontab_id:
        c = task.crontab
        return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"
    return ""


def check_timing(*, every_minutes: int | None, cron: str | None) -> list[str] | None:
    """Refuse a timing beat cannot run (400 per field); returns the cron's five fields, if one was given."""
    from celery.schedules import crontab

    if every_minutes is not None and cron:
        raise InvalidInput("Give an interval or a cron, not both.", field_errors={"cron": ["Leave one empty."]})
    if every_minutes is not None and (
        not isinstance(every_minutes, int) or isinstance(every_minutes, bool) or every_minutes < 1
    ):
        raise InvalidInput("The interval is not valid.", field_errors={"every_minutes": ["A whole number ≥ 1."]})
    if not cron:
        return None
    parts = str(cron).split()
    error = InvalidInput("The cron expression is not valid.", field_errors={"cron": ["Give five valid fields (UTC)."]})
    if len(parts) != 5:
        raise error
    minute, hour, dom, month, dow = parts
    try:
        crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    except (ValueError, KeyError) as exc:
        raise error from exc
    return parts


def _retime(task: PeriodicTask, *, every_minutes: int | None, cron: str | None) -> None:
    parts = check_timing(every_minutes=every_minutes, cron=cron)
    if every_minutes is not None:
        task.interval = IntervalSchedule.objects.get_or_create(every=every_minutes, period=IntervalSchedule.MINUTES)[0]
        task.crontab = None
    elif parts:
        minute, hour, dom, month, dow = parts
        task.crontab = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow, timezone="UTC"
        )[0]
        task.interval = None


@transaction.atomic
def periodic_task_update(
    *,
    task: PeriodicTask,
    actor: Actor,
    enabled: bool | None = None,
    every_minutes: int | None = None,
    cron: str | None = None,
) -> PeriodicTask:
    """Change a built-in task's enabled flag or timing; records ``schedule.update`` by the acting admin."""
    if actor is None or not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may change the built-in schedules.")
    task = PeriodicTask.objects.select_for_update().get(pk=task.pk)
    if builtin_schedule(task.name) is None:
        raise NotAllowed(f"{task.name!r} is not a built-in schedule; change it where it was made (its app's page).")
    before = {"enabled": task.enabled, "timing": periodic_task_timing(task)}
    if enabled is not None:
        task.enabled = bool(enabled)
    _retime(task, every_minutes=every_minutes, cron=cron)
    changes = diff(before, {"enabled": task.enabled, "timing": periodic_task_timing(task)})
    if not changes:
        return task
    task.save()
    audit_record(action="schedule.update", actor=actor, obj=task, object_repr=task.name, changes=changes)
    return task
