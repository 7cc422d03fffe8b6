"""The evidence of a serious-incident report, and the overdue-incident flag rows every report kind carries.

The sections follow the Commission's reporting template for serious incidents (EU AI Act Art. 73; guidance and
template under Art. 73(7), consulted on in 2025), as issue 19 lists them: reporter and provider, the AI system and
models involved, the incident (what, when it happened, when the organisation became aware, harm category),
regime and legal deadline, submission, corrective measures, root cause and follow-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from audits.selectors import events_for_objects
from fmgov.evidence.selectors import attachments_of
from fmgov.incidents.choices import IncidentStatus
from fmgov.incidents.models import Incident
from fmgov.incidents.selectors import (
    affected_deployments,
    incidents_overdue_during,
    incidents_overdue_touching,
    overdue_at,
)
from reports.models import Report
from reports.selectors.common import (
    chain_verification,
    event_row,
    evidence_header,
    finding_row,
    model_row,
    ts,
    user_name,
)

__all__ = ["incident_evidence", "incident_flag_row", "overdue_flags_for_deployment", "overdue_flags_during"]

#: Art. 73(2)-(4): an initial report, complete or not, then follow-ups; the report type the template asks for.
REPORT_TYPE = {
    IncidentStatus.OPEN: "initial report (not yet submitted)",
    IncidentStatus.REPORTED: "initial report",
    IncidentStatus.FOLLOW_UP: "follow-up report",
    IncidentStatus.CLOSED: "final report",
}


def incident_flag_row(incident: Incident, now: dt.datetime) -> dict[str, Any]:
    """One overdue incident as a flag: what, the deadline and its source, and how late."""
    reported = incident.reported_at
    late = (reported or now) - incident.report_due_at
    return {
        "id": incident.pk,
        "summary": incident.summary,
        "regime": incident.regime,
        "harm_category": incident.harm_category,
        "status": incident.status,
        "aware_at": ts(incident.aware_at),
        "report_due_at": ts(incident.report_due_at),
        "deadline_source": incident.deadline_source,
        "reported_at": ts(reported),
        "days_late": round(late.total_seconds() / 86400, 1),
        "deployments": [d.name for d in incident.deployments.all()],
        "foundation_models": [f"{m.name} {m.version}" for m in incident.foundation_models.all()],
        "finding": incident.overdue_finding_id,
    }


def overdue_flags_for_deployment(deployment) -> list[dict[str, Any]]:
    """The dossier's flags: overdue incidents naming the deployment or a model it rests on."""
    now = timezone.now()
    return [incident_flag_row(i, now) for i in incidents_overdue_touching(deployment, now)]


def overdue_flags_during(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """The period summary's flags: incidents overdue at some time in [start, end)."""
    now = timezone.now()
    return [incident_flag_row(i, now) for i in incidents_overdue_during(start, end)]


def _target_row(deployment) -> dict[str, Any]:
    target = deployment.target
    is_model = deployment.foundation_model_id is not None
    return {
        "type": "foundation_model" if is_model else "adaptation",
        "id": target.pk,
        "name": target.name,
        "version": target.version,
        "digest": target.artifact_digest,
        "detail": target.provider if is_model else target.get_kind_display(),
    }


def incident_evidence(report: Report) -> dict[str, Any]:
    incident = (
        Incident.objects.select_related("opened_by", "confirmed_by", "overdue_finding")
        .prefetch_related("deployments__owner", "deployments__foundation_model", "deployments__adaptation")
        .get(pk=report.incident_id)
    )
    evidence = evidence_header(report)
    now = timezone.now()
    deployments = sorted(incident.deployments.all(), key=lambda d: d.pk)
    models = list(incident.foundation_models.order_by("pk"))
    named = {d.pk for d in deployments}
    downstream = [d for d in affected_deployments(incident) if d.pk not in named]
    providers = sorted(
        {m.provider for m in models if m.provider}
        | {d.foundation_model.provider for d in deployments if d.foundation_model_id and d.foundation_model.provider}
    )
    attachments = list(attachments_of(incident_id=incident.pk))
    objects = [("incidents.incident", str(incident.pk))] + [("evidence.attachment", str(a.pk)) for a in attachments]
    finding = incident.overdue_finding
    if finding is not None:
        objects += finding.audit_objects()
    head_seq = evidence["audit_head"]["seq"]
    events = events_for_objects(objects).filter(seq__lte=head_seq)
    evidence.update(
        {
            # 1. Reporter and provider.
            "reporter": {
                "organisation": getattr(settings, "FMGOV_ORGANISATION_NAME", ""),
                "opened_by": user_name(incident.opened_by),
                "opened_by_email": incident.opened_by.email,
                "confirmed_by": user_name(incident.confirmed_by),
                "confirmed_at": ts(incident.confirmed_at),
                "providers": providers,
            },
            # 2. AI systems and models involved, and what else the lineage reaches.
            "systems": {
                "deployments": [
                    {
                        "id": d.pk,
                        "name": d.name,
                        "environment": d.get_environment_display(),
                        "status": d.status,
                        "region": d.region,
                        "owner": user_name(d.owner),
                        "went_live_at": ts(d.went_live_at),
                        "target": _target_row(d),
                    }
                    for d in deployments
                ],
                "foundation_models": [model_row(m) for m in models],
                "affected_downstream": [
                    {"id": d.pk, "name": d.name, "environment": d.get_environment_display(), "status": d.status}
                    for d in downstream
                ],
            },
            # 3-8. The incident, its clock, submission, measures, cause and follow-up.
            "incident": {
                "id": incident.pk,
                "summary": incident.summary,
                "description": incident.description,
                "occurred_at": ts(incident.occurred_at),
                "aware_at": ts(incident.aware_at),
                "harm_category": incident.harm_category,
                "regime": incident.regime,
                "regime_label": str(incident.get_regime_display()),
                "deadline_days": incident.deadline_days,
                "deadline_source": incident.deadline_source,
                "report_due_at": ts(incident.report_due_at),
                "status": incident.status,
                "report_type": REPORT_TYPE[incident.status],
                "reported_at": ts(incident.reported_at),
                "overdue": overdue_at(incident, now),
                "closed_at": ts(incident.closed_at),
                "corrective_measures": incident.corrective_measures,
                "root_cause": incident.root_cause,
            },
            "overdue_finding": finding_row(finding) if finding is not None else None,
            # Evidence files attached to the incident (logs, analyses), each by its digest.
            "evidence_files": [
                {
                    "id": a.pk,
                    "name": a.name,
                    "revision": a.revision,
                    "sha256": a.sha256,
                    "size": a.size,
                    "content_type": a.content_type,
                    "uploaded_by": user_name(a.uploaded_by),
                    "uploaded_at": ts(a.created_at),
                    "superseded": hasattr(a, "superseded_by"),
                }  # fmt: skip
                for a in attachments
            ],
            "audit_trail": {
                "objects": [list(o) for o in sorted(set(objects))],
                "events": [event_row(e) for e in events],
                "verification": chain_verification(),
            },
        }
    )
    return evidence
