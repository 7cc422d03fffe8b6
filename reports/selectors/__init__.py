"""Reads for reports: who may see which report, and the evidence behind each report kind.

The evidence is a plain JSON-able dict: the renderer builds every table and
chart from it alone, and it is embedded in the PDF as ``evidence.json``, so a
reader can check each figure against the data it came from. ``dossier`` and
``period`` gather each kind's; ``common`` holds what they share.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fmgov.core.roles import Role, has_role
from fmgov.registry.models import Deployment
from reports.models import Report
from reports.selectors.common import EVIDENCE_SCHEMA, OVERSIGHT_ROLES
from reports.selectors.documentation import (
    documentation_evidence,
    documentation_record_of,
    downstream_evidence,
    may_report_on_documentation,
)
from reports.selectors.dossier import dossier_evidence
from reports.selectors.incident import incident_evidence
from reports.selectors.period import period_evidence

__all__ = [
    "report_list_for",
    "may_see_report",
    "may_report_on_deployment",
    "may_report_on_incident",
    "may_report_on_documentation",
    "documentation_record_of",
    "documentation_evidence",
    "downstream_evidence",
    "dossier_evidence",
    "incident_evidence",
    "period_evidence",
    "EVIDENCE_SCHEMA",
    "OVERSIGHT_ROLES",
]


def may_report_on_deployment(user, deployment: Deployment) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and deployment.owner_id == user.pk


def may_report_on_incident(user, incident) -> bool:
    """The board and auditors on any incident; an engineer on one they opened or that names their deployment."""
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    if not has_role(user, Role.ENGINEER):
        return False
    return incident.opened_by_id == user.pk or incident.deployments.filter(owner=user).exists()


def may_see_report(user, report: Report) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    if report.incident_id is not None:
        return may_report_on_incident(user, report.incident)
    if report.foundation_model_id is not None or report.adaptation_id is not None:
        return may_report_on_documentation(user, report.foundation_model or report.adaptation)
    return has_role(user, Role.ENGINEER) and report.deployment_id is not None and report.deployment.owner_id == user.pk


def report_list_for(user) -> QuerySet[Report]:
    reports = Report.objects.select_related("deployment", "requested_by")
    if has_role(user, *OVERSIGHT_ROLES):
        return reports
    if has_role(user, Role.ENGINEER):
        from fmgov.incidents.models import Incident

        theirs = Incident.objects.filter(Q(opened_by=user) | Q(deployments__owner=user)).values("pk")
        return reports.filter(
            Q(deployment__owner=user)
            | Q(incident__in=theirs)
            | Q(foundation_model__owner=user)
            | Q(adaptation__owner=user)
        )
    return reports.none()
