"""Reads for reports: who may see which report, and the evidence behind each report kind.

The evidence is a plain JSON-able dict: the renderer builds every table and
chart from it alone, and it is embedded in the PDF as ``evidence.json``, so a
reader can check each figure against the data it came from. ``dossier`` and
``period`` gather each kind's; ``common`` holds what they share.
"""

from __future__ import annotations

from django.db.models import QuerySet

from fmgov.core.roles import Role, has_role
from fmgov.registry.models import Deployment
from reports.models import Report
from reports.selectors.common import EVIDENCE_SCHEMA, OVERSIGHT_ROLES
from reports.selectors.dossier import dossier_evidence
from reports.selectors.period import period_evidence

__all__ = [
    "report_list_for",
    "may_see_report",
    "may_report_on_deployment",
    "dossier_evidence",
    "period_evidence",
    "EVIDENCE_SCHEMA",
    "OVERSIGHT_ROLES",
]


def may_report_on_deployment(user, deployment: Deployment) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and deployment.owner_id == user.pk


def may_see_report(user, report: Report) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and report.deployment_id is not None and report.deployment.owner_id == user.pk


def report_list_for(user) -> QuerySet[Report]:
    reports = Report.objects.select_related("deployment", "requested_by")
    if has_role(user, *OVERSIGHT_ROLES):
        return reports
    if has_role(user, Role.ENGINEER):
        return reports.filter(deployment__owner=user)
    return reports.none()
