"""Built-in beat schedules change only through the audited service; the beat admin is wrapped around it."""

import json

import pytest
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audits.models import AuditEvent
from fmgov.accounts.schedules import periodic_task_timing, periodic_task_update
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.schedules import ensure_builtin_schedules

pytestmark = pytest.mark.django_db
CHECKPOINT = "Sign an audit-trail checkpoint"


@pytest.fixture
def checkpoint_task() -> PeriodicTask:
    ensure_builtin_schedules()
    return PeriodicTask.objects.get(name=CHECKPOINT)


@pytest.fixture
def evaluation_task() -> PeriodicTask:
    """A row another app owns (an evaluation schedule's): not a built-in."""
    every, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.MINUTES)
    return PeriodicTask.objects.create(
        name="evaluation-schedule-1", task="fmgov.evaluations.tasks.run_scheduled_evaluation", interval=every
    )


def test_disabling_and_retiming_a_builtin_task_is_an_event_by_the_admin(checkpoint_task, admin_user):
    before = periodic_task_timing(checkpoint_task)
    periodic_task_update(task=checkpoint_task, actor=admin_user, enabled=False, cron="*/30 * * * *")
    task = PeriodicTask.objects.get(pk=checkpoint_task.pk)
    assert not task.enabled and task.interval is None and task.crontab.minute == "*/30"
    event = AuditEvent.objects.get(action="schedule.update")
    assert event.actor_username == "ada" and event.object_repr == CHECKPOINT
    assert event.changes == {"enabled": [True, False], "timing": [before, "*/30 * * * *"]}
    periodic_task_update(task=task, actor=admin_user, enabled=False)
    assert AuditEvent.objects.filter(action="schedule.update").count() == 1, "no change, no event"


def test_only_admins_change_only_builtin_tasks(checkpoint_task, evaluation_task, engineer, admin_user):
    with pytest.raises(NotAllowed):
        periodic_task_update(task=checkpoint_task, actor=engineer, enabled=False)
    with pytest.raises(NotAllowed, match="not a built-in"):
        periodic_task_update(task=evaluation_task, actor=admin_user, enabled=False)
    assert PeriodicTask.objects.get(pk=checkpoint_task.pk).enabled
    assert not AuditEvent.objects.filter(action="schedule.update").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"cron": "61 * * * *"}, "cron"), ({"cron": "* *"}, "cron"), ({"every_minutes": 0}, "every_minutes")]
    + [({"every_minutes": 5, "cron": "* * * * *"}, "cron")],
)
def test_a_bad_timing_is_refused_per_field(checkpoint_task, admin_user, kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        periodic_task_update(task=checkpoint_task, actor=admin_user, **kwargs)
    assert field in refused.value.field_errors


def test_the_beat_admin_saves_through_the_service(client, admin_user, checkpoint_task):
    client.force_login(admin_user)
    url = f"/admin/django_celery_beat/periodictask/{checkpoint_task.pk}/change/"
    response = client.post(url, {"every_minutes": "15", "cron": ""})  # "enabled" unticked
    assert response.status_code == 302, response.content[:3000]
    task = PeriodicTask.objects.get(pk=checkpoint_task.pk)
    assert not task.enabled and task.interval.every == 15
    assert AuditEvent.objects.get(action="schedule.update").actor_username == "ada"
    refused = client.post(url, {"enabled": "on", "cron": "not a cron"})
    assert refused.status_code == 200 and b"errorlist" in refused.content


def test_the_beat_admin_refuses_other_rows_adding_deleting_and_shared_timings(client, admin_user, evaluation_task):
    client.force_login(admin_user)
    base = "/admin/django_celery_beat"
    response = client.post(f"{base}/periodictask/{evaluation_task.pk}/change/", {"enabled": "", "every_minutes": "1"})
    assert response.status_code == 403
    assert client.post(f"{base}/periodictask/{evaluation_task.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{base}/periodictask/add/").status_code == 403
    interval = evaluation_task.interval
    assert client.post(f"{base}/intervalschedule/{interval.pk}/change/", {"every": "1"}).status_code == 403
    assert client.get(f"{base}/crontabschedule/add/").status_code == 403
    assert (
        PeriodicTask.objects.get(pk=evaluation_task.pk).enabled
        and IntervalSchedule.objects.get(pk=interval.pk).every == 60
    )
    assert not CrontabSchedule.objects.filter(minute="not").exists()
    assert json.loads(evaluation_task.kwargs) == {}
