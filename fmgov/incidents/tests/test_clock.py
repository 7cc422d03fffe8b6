"""The legal clock under a frozen clock: reminders at half time and a day before, once each; overdue opens a finding."""

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail

from audits.models import AuditEvent
from fmgov.core.schedules import builtin_schedule
from fmgov.evaluations.tests.factories import DeploymentFactory
from fmgov.findings.models import Finding
from fmgov.incidents import services, tasks
from fmgov.incidents.clock import incident_remind, incidents_clock
from fmgov.incidents.tests.factories import open_incident

pytestmark = pytest.mark.django_db


@contextmanager
def frozen(at):
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """One beat of the clock at a frozen time; the reminder tasks it enqueues run here, as a worker would."""

    def run_eagerly(*args):
        return tasks.notify_incident_reminder.apply(args=args)

    def _sweep(at):
        eager = mock.patch.object(tasks.notify_incident_reminder, "delay", side_effect=run_eagerly)
        with frozen(at), eager, django_capture_on_commit_callbacks(execute=True):
            return incidents_clock()

    return _sweep


def test_the_clock_is_a_builtin_beat_schedule():
    schedule = builtin_schedule("Serious-incident clock: reminders and overdue findings")
    assert schedule is not None and schedule.task == tasks.incident_clock.name


def test_reminders_fire_at_half_time_and_a_day_before_exactly_once(engineer, other_engineer, reviewer, sweep):
    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(reviewer, deployments=[deployment])  # Art. 73(2): 15 days
    aware, due = incident.aware_at, incident.report_due_at
    assert due - aware == timedelta(days=15)
    half = aware + timedelta(days=7, hours=12)
    steps = [
        (half - timedelta(minutes=1), {"reminders": 0, "overdue": 0}),
        (half, {"reminders": 1, "overdue": 0}),
        (half + timedelta(minutes=15), {"reminders": 0, "overdue": 0}),
        (due - timedelta(days=1, minutes=1), {"reminders": 0, "overdue": 0}),
        (due - timedelta(days=1), {"reminders": 1, "overdue": 0}),
        (due - timedelta(hours=1), {"reminders": 0, "overdue": 0}),
    ]
    for at, expected in steps:
        assert sweep(at) == expected, at
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == sorted([reviewer.email, engineer.email] * 2)
    assert all(f"#{incident.pk}" in message.subject for message in mail.outbox)
    assert other_engineer.email not in recipients
    reminders = AuditEvent.objects.filter(action="incident.remind").order_by("seq")
    assert [e.context["stage"] for e in reminders] == ["half_time", "last_day"]
    assert [e.actor_system for e in reminders] == ["fmgov.incidents.tasks.incident_clock"] * 2
    # A redelivered task message sends nothing again: the ledger key is the incident and the stage.
    tasks.notify_incident_reminder.apply(args=(incident.pk, "half_time"))
    assert len(mail.outbox) == 4


def test_overdue_opens_one_finding_with_its_audit_event(engineer, sweep):
    incident = open_incident(
        engineer, deployments=[DeploymentFactory(owner=engineer)], harm_category="critical_infrastructure"
    )
    due = incident.report_due_at
    assert sweep(due - timedelta(seconds=1))["overdue"] == 0
    assert sweep(due) == {"reminders": 0, "overdue": 1}
    assert sweep(due + timedelta(hours=1)) == {"reminders": 0, "overdue": 0}
    finding = Finding.objects.get()
    incident.refresh_from_db()
    assert incident.overdue_finding == finding and finding.subject == incident
    assert (finding.source, finding.severity, finding.detail["incident"]) == ("incident", "critical", incident.pk)
    assert "Art. 73(3)" in finding.detail["deadline_source"]
    assert AuditEvent.objects.filter(action="finding.open", object_id=str(finding.pk)).count() == 1
    overdue = AuditEvent.objects.get(action="incident.overdue")
    assert overdue.changes["overdue_finding"] == [None, finding.pk]


def test_a_reported_incident_stops_the_clock(engineer, sweep):
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    services.incident_report(incident=incident, actor=engineer)
    assert sweep(incident.report_due_at + timedelta(days=1)) == {"reminders": 0, "overdue": 0}
    assert not Finding.objects.exists() and not mail.outbox


def test_a_sweep_after_the_deadline_sends_no_late_reminders_only_the_finding(engineer, sweep):
    incident = open_incident(
        engineer, deployments=[DeploymentFactory(owner=engineer)], aware_ago=timedelta(days=3), harm_category="death"
    )
    assert sweep(incident.report_due_at + timedelta(minutes=1)) == {"reminders": 0, "overdue": 1}
    assert not mail.outbox


def test_a_corrected_deadline_re_arms_the_reminders_still_ahead(engineer, reviewer, sweep):
    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(reviewer, deployments=[deployment], harm_category="critical_infrastructure")
    aware = incident.aware_at  # Art. 73(3): two days; "a day before" is half time, so one reminder, after a day
    assert sweep(aware + timedelta(days=1)) == {"reminders": 1, "overdue": 0}
    assert sweep(aware + timedelta(days=1, minutes=30)) == {"reminders": 0, "overdue": 0}
    assert incident_remind(incident=incident, stage="last_day", now=aware + timedelta(days=1, hours=2)) is False
    # The board corrects the category: Art. 73(2), fifteen days. Both reminders lie ahead again.
    with frozen(aware + timedelta(days=1, hours=1)):
        incident = services.incident_update(incident=incident, actor=reviewer, harm_category="serious_incident")
    assert (incident.half_time_reminder_at, incident.last_day_reminder_at) == (None, None)
    update = AuditEvent.objects.filter(action="incident.update").latest("seq")
    assert update.changes["half_time_reminder_at"][1] is None and "report_due_at" in update.changes
    assert sweep(aware + timedelta(days=7, hours=11)) == {"reminders": 0, "overdue": 0}
    assert sweep(aware + timedelta(days=7, hours=12)) == {"reminders": 1, "overdue": 0}
    assert sweep(aware + timedelta(days=14)) == {"reminders": 1, "overdue": 0}
    due = f"{incident.report_due_at:%Y-%m-%d %H:%M}"
    assert [m.subject.endswith(f"report due {due} UTC") for m in mail.outbox].count(True) == 2 * 2  # two recipients
    assert len(mail.outbox) == 3 * 2
