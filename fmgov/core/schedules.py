"""Built-in periodic tasks, kept as django-celery-beat rows so admins can edit them.

Apps register theirs in ``AppConfig.ready()``; a post_migrate handler creates
any that are missing and never overwrites an admin's edits, which go through the
audited ``fmgov.accounts.schedules.periodic_task_update``.
"""

from dataclasses import dataclass

__all__ = ["BuiltinSchedule", "register_builtin_schedule", "builtin_schedule", "ensure_builtin_schedules"]


@dataclass(frozen=True)
class BuiltinSchedule:
    name: str
    task: str
    every_minutes: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month day_of_week"
    queue: str | None = None


_registry: dict[str, BuiltinSchedule] = {}


def register_builtin_schedule(schedule: BuiltinSchedule) -> None:
    _registry[schedule.name] = schedule


def builtin_schedule(name: str) -> BuiltinSchedule | None:
    """The registered built-in schedule of that name: admins retime these; other rows belong to their app."""
    return _registry.get(name)


def ensure_builtin_schedules(**kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for schedule in _registry.values():
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        fields = {"task": schedule.task, "queue": schedule.queue}
        if schedule.every_minutes:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=schedule.every_minutes, period=IntervalSchedule.MINUTES
            )
            fields["interval"] = interval
        else:
            minute, hour, dom, month, dow = schedule.crontab.split()
            cron, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow, timezone="UTC"
            )
            fields["crontab"] = cron
        PeriodicTask.objects.create(name=schedule.name, **fields)
