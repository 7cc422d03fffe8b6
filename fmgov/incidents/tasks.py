"""Celery tasks: the incident clock (beat) and its reminder e-mails. Thin: load by id, call a service, send."""

import logging

from celery import shared_task
from django.utils import timezone

from fmgov.incidents.choices import CLOCK_RUNNING
from fmgov.incidents.models import Incident
from fmgov.notifications.services import email_send_once

__all__ = ["incident_clock", "notify_incident_reminder"]

logger = logging.getLogger(__name__)


@shared_task(name="fmgov.incidents.tasks.incident_clock")
def incident_clock() -> dict[str, int]:
    """Beat: reminders at half time and a day before each deadline; overdue incidents open a finding."""
    from fmgov.incidents.clock import incidents_clock

    return incidents_clock()


@shared_task(bind=True, name="fmgov.incidents.tasks.notify_incident_reminder")
def notify_incident_reminder(self, incident_id: int, stage: str) -> int:
    """The opener and the owners of the deployments involved hear how long is left to report it.

    The ledger key is the incident, the stage and the deadline, not the task message: a reminder is sent once
    whatever delivers it, and again only when a corrected deadline re-arms it.
    """
    incident = Incident.objects.select_related("opened_by").filter(pk=incident_id).first()
    if incident is None or incident.status not in CLOCK_RUNNING:
        return 0
    recipients = {incident.opened_by.email}
    recipients |= set(incident.deployments.values_list("owner__email", flat=True))
    left = incident.report_due_at - timezone.now()
    hours = max(int(left.total_seconds() // 3600), 0)
    body = (
        f"Serious incident #{incident.pk} ({incident.summary}) must be reported by "
        f"{incident.report_due_at:%Y-%m-%d %H:%M} UTC ({incident.deadline_source}): about {hours} hour(s) left.\n"
        "Record the report in fmgov once it is made.\n"
    )
    return email_send_once(
        key=f"incident:{incident.pk}:reminder:{stage}:{incident.report_due_at:%Y%m%dT%H%M%S}",
        task_name=self.name,
        subject=f"[fmgov] Incident #{incident.pk}: report due {incident.report_due_at:%Y-%m-%d %H:%M} UTC",
        body=body,
        recipients=sorted(r for r in recipients if r),
    )
