"""Reads on incidents, shaped so that a list is a fixed number of queries."""

from django.db.models import QuerySet

from fmgov.incidents.choices import CLOCK_RUNNING
from fmgov.incidents.models import Incident
from fmgov.incidents.suspension import affected_deployments

__all__ = ["incident_list", "incidents_on_the_clock", "affected_deployments"]


def incident_list() -> QuerySet[Incident]:
    return Incident.objects.select_related("opened_by", "confirmed_by").prefetch_related(
        "deployments", "foundation_models"
    )


def incidents_on_the_clock() -> QuerySet[Incident]:
    """Incidents not yet reported, soonest deadline first (the dashboard's clock)."""
    return Incident.objects.filter(status__in=CLOCK_RUNNING).order_by("report_due_at", "pk")
