"""Reads on incidents, shaped so that a list is a fixed number of queries."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from fmgov.incidents.choices import CLOCK_RUNNING
from fmgov.incidents.models import Incident
from fmgov.incidents.suspension import affected_deployments
from fmgov.registry.models import Deployment

__all__ = [
    "incident_list",
    "incidents_on_the_clock",
    "affected_deployments",
    "overdue_at",
    "incidents_overdue_touching",
    "incidents_overdue_during",
    "clock_of",
]


def incident_list() -> QuerySet[Incident]:
    return Incident.objects.select_related("opened_by", "confirmed_by").prefetch_related(
        "deployments", "foundation_models"
    )


def incidents_on_the_clock() -> QuerySet[Incident]:
    """Incidents not yet reported, soonest deadline first (the dashboard's clock)."""
    return Incident.objects.filter(status__in=CLOCK_RUNNING).order_by("report_due_at", "pk")


def overdue_at(incident: Incident, now: dt.datetime | None = None) -> bool:
    """Past its deadline unreported now, or reported after it: either way the legal clock ran out."""
    now = now or timezone.now()
    if incident.reported_at is not None:
        return incident.reported_at > incident.report_due_at
    return incident.status in CLOCK_RUNNING and now >= incident.report_due_at


def _ever_overdue(now: dt.datetime) -> Q:
    unreported = Q(reported_at__isnull=True, status__in=CLOCK_RUNNING, report_due_at__lte=now)
    return unreported | Q(reported_at__isnull=False, reported_at__gt=F("report_due_at"))


def incidents_overdue_touching(deployment: Deployment, now: dt.datetime | None = None) -> QuerySet[Incident]:
    """Overdue incidents naming this deployment, or a model its target rests on (a report flags every one)."""
    from fmgov.registry.selectors import adaptation_ancestors

    now = now or timezone.now()
    if deployment.foundation_model_id:
        model_ids = {deployment.foundation_model_id}
    else:
        ancestors = adaptation_ancestors(adaptation_id=deployment.adaptation_id)
        model_ids = {a["id"] for a in ancestors if a["kind"] == "foundation_model"}
    touching = Q(deployments=deployment) | Q(foundation_models__in=model_ids)
    ids = Incident.objects.filter(touching).filter(_ever_overdue(now)).values("pk")
    return incident_list().filter(pk__in=ids).order_by("report_due_at", "pk")


def incidents_overdue_during(start: dt.datetime, end: dt.datetime) -> QuerySet[Incident]:
    """Incidents whose deadline passed unreported at some time in [start, end): due before the end, and not
    reported until after the deadline and after the start."""
    late = Q(reported_at__isnull=True, status__in=CLOCK_RUNNING) | (
        Q(reported_at__gt=F("report_due_at")) & Q(reported_at__gt=start)
    )
    return incident_list().filter(late, report_due_at__lt=end).order_by("report_due_at", "pk")


def clock_of(incident: Incident, now: dt.datetime | None = None) -> dict:
    """The legal clock as a person reads it: the deadline, whether it ran out, and the time left (or overdue by).

    ``running`` is False once reported (the clock stopped at ``reported_at``) or closed.
    """
    now = now or timezone.now()
    due = incident.report_due_at
    running = incident.reported_at is None and incident.status in CLOCK_RUNNING
    overdue = overdue_at(incident, now)
    if running:
        left = timesince(due, now) if overdue else timeuntil(due, now)
    elif overdue:  # reported late: by how much
        left = timesince(due, incident.reported_at)
    else:
        left = ""
    return {"incident": incident, "due": due, "running": running, "overdue": overdue, "left": left}
