"""The legal clock of an incident not yet reported: reminders at half time and a day before, a finding when late.

Each step is marked on the incident under its row lock in its own transaction, with its audit event, so a
sweep that runs twice (beat fires again, a worker dies and the message is redelivered) does each step once;
the e-mail goes out after commit under a key fixed by the incident and step, so the e-mail ledger
(``email_send_once``) never sends it twice either.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.findings.choices import FindingSource, Severity
from fmgov.findings.services import finding_open
from fmgov.incidents.choices import CLOCK_RUNNING
from fmgov.incidents.conf import REMINDER_BEFORE_DUE
from fmgov.incidents.models import Incident

__all__ = [
    "HALF_TIME",
    "LAST_DAY",
    "STAMP",
    "incident_remind",
    "incident_overdue",
    "incidents_clock",
    "reminder_due_at",
]

logger = logging.getLogger(__name__)
SYSTEM = "fmgov.incidents.tasks.incident_clock"
HALF_TIME, LAST_DAY = "half_time", "last_day"
STAMP = {HALF_TIME: "half_time_reminder_at", LAST_DAY: "last_day_reminder_at"}


def reminder_due_at(incident: Incident, stage: str) -> datetime:
    """Half time between awareness and the deadline, or one day before the deadline."""
    if stage == HALF_TIME:
        return incident.aware_at + (incident.report_due_at - incident.aware_at) / 2
    return incident.report_due_at - REMINDER_BEFORE_DUE


@transaction.atomic
def incident_remind(*, incident: Incident, stage: str, now: datetime | None = None) -> bool:
    """Mark and enqueue one reminder; False when already sent, not yet due, past the deadline or reported.

    A deadline of two days or less has one reminder, at half time: "a day before" falls on it or before it.
    """
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    stamp = STAMP[stage]
    if incident.status not in CLOCK_RUNNING or getattr(incident, stamp) is not None:
        return False
    if stage == LAST_DAY and reminder_due_at(incident, LAST_DAY) <= reminder_due_at(incident, HALF_TIME):
        return False
    if not reminder_due_at(incident, stage) <= now < incident.report_due_at:
        return False
    setattr(incident, stamp, now)
    incident.save(update_fields=[stamp, "updated_at"])
    audit_record(
        action="incident.remind",
        system=SYSTEM,
        obj=incident,
        changes={stamp: [None, now]},
        context={"stage": stage, "report_due_at": incident.report_due_at},
    )
    from fmgov.incidents import tasks

    enqueue_on_commit(tasks.notify_incident_reminder, incident.pk, stage)
    return True


@transaction.atomic
def incident_overdue(*, incident: Incident, now: datetime | None = None) -> bool:
    """Past its deadline and still not reported: open a finding on it, once, and record that on the incident."""
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status not in CLOCK_RUNNING or incident.overdue_finding_id or incident.report_due_at > now:
        return False
    finding, _ = finding_open(
        source=FindingSource.INCIDENT,
        subject=incident,
        subject_label=incident.summary,
        severity=Severity.CRITICAL,
        title=f"Serious incident #{incident.pk} not reported by {incident.report_due_at:%Y-%m-%d %H:%M} UTC",
        detail={
            "incident": incident.pk,
            "regime": incident.regime,
            "harm_category": incident.harm_category,
            "report_due_at": incident.report_due_at.isoformat(),
            "deadline_source": incident.deadline_source,
        },
        dedupe_key=f"incident:{incident.pk}:overdue",
        system=SYSTEM,
    )
    incident.overdue_finding = finding
    incident.save(update_fields=["overdue_finding", "updated_at"])
    audit_record(
        action="incident.overdue",
        system=SYSTEM,
        obj=incident,
        changes={"overdue_finding": [None, finding.pk]},
        context={"report_due_at": incident.report_due_at},
    )
    return True


def incidents_clock(*, now: datetime | None = None) -> dict[str, int]:
    """One sweep over incidents whose clock runs: each step in its own transaction, so one failure stops nothing."""
    now = now or timezone.now()
    counts = {"reminders": 0, "overdue": 0}
    running = Incident.objects.filter(status__in=CLOCK_RUNNING).order_by("pk")
    for incident in running.filter(report_due_at__lte=now, overdue_finding__isnull=True):
        counts["overdue"] += int(incident_overdue(incident=incident, now=now))
    pending = running.filter(report_due_at__gt=now)
    for incident in pending.filter(Q(half_time_reminder_at__isnull=True) | Q(last_day_reminder_at__isnull=True)):
        for stage in (HALF_TIME, LAST_DAY):
            counts["reminders"] += int(incident_remind(incident=incident, stage=stage, now=now))
    return counts
