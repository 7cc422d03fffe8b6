"""Writes for reports: request, render (claim, build, store, complete or fail) and download.

Each is atomic and records its audit event in the same transaction. The
render is claimed under ``select_for_update`` on the report row, so a task
delivered twice (broker redelivery, a duplicate enqueue) renders once; a
claim older than the task's hard time limit is stale (its worker died) and
may be taken over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.core.roles import has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.evidence.dossier import dossier_embedded_files
from fmgov.incidents.models import Incident
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from reports import conf
from reports.choices import DOCUMENTATION_KINDS, DocumentationAudience, ReportKind, ReportState
from reports.models import Report
from reports.rendering.pdf import RenderError, render_pdf
from reports.selectors import (
    OVERSIGHT_ROLES,
    documentation_evidence,
    documentation_record_of,
    dossier_evidence,
    downstream_evidence,
    incident_evidence,
    may_report_on_deployment,
    may_report_on_documentation,
    may_report_on_incident,
    may_see_report,
    period_evidence,
)

__all__ = ["report_request", "report_render", "report_open_for_download", "reports_sweep_stuck", "evidence_to_json"]

MAX_PERIOD_DAYS = 3660
MAX_ATTEMPTS = 2

#: Each kind's evidence, gathered by the worker; a kind renders once it is here and in ``document.build_parts``.
EVIDENCE_OF = {
    ReportKind.DEPLOYMENT_DOSSIER: dossier_evidence,
    ReportKind.PERIOD_SUMMARY: period_evidence,
    ReportKind.INCIDENT_REPORT: incident_evidence,
    ReportKind.MODEL_DOCUMENTATION: documentation_evidence,
    ReportKind.DOWNSTREAM_INFORMATION: downstream_evidence,
}


def evidence_to_json(evidence: dict) -> str:
    """The exact text embedded as evidence.json: sorted keys, UTF-8, no NaN."""
    return json.dumps(evidence, sort_keys=True, ensure_ascii=False, allow_nan=False, indent=1)


def _check_incident(actor: Actor, incident: Incident | None) -> None:
    if incident is None:
        raise InvalidInput("An incident report needs an incident.", field_errors={"incident": ["Required."]})
    if not may_report_on_incident(actor, incident):
        raise NotAllowed(
            "Engineers may request reports only on incidents they opened or that involve their deployments; "
            f"incident {incident.pk} does neither."
        )


def _check_documentation(
    actor: Actor, kind: str, foundation_model: FoundationModel | None, adaptation: Adaptation | None, audience: str
) -> None:
    errors = {}
    if (foundation_model is None) == (adaptation is None):
        message = "Name exactly one foundation model or adaptation whose documentation to export."
        errors = {"foundation_model": [message], "adaptation": [message]}
    if kind == ReportKind.MODEL_DOCUMENTATION and audience not in DocumentationAudience.values:
        errors["audience"] = [f"Required for model documentation: one of {', '.join(DocumentationAudience.values)}."]
    if errors:
        raise InvalidInput("The documentation export is not valid.", field_errors=errors)
    target = foundation_model or adaptation
    if not may_report_on_documentation(actor, target):
        raise NotAllowed(
            "Engineers may export the documentation only of the models and adaptations they own; "
            f"{target} belongs to someone else."
        )
    if documentation_record_of(target) is None:
        raise Conflict(f"{target} has no documentation record yet; save its documentation before exporting it.")


def _check_dossier(actor: Actor, deployment: Deployment | None) -> None:
    if deployment is None:
        raise InvalidInput("A deployment dossier needs a deployment.", field_errors={"deployment": ["Required."]})
    if not may_report_on_deployment(actor, deployment):
        raise NotAllowed(
            "Engineers may request reports only about their own deployments; "
            f"deployment {deployment.pk} belongs to someone else."
        )


def _check_period(actor: Actor, period_start: dt.date | None, period_end: dt.date | None) -> None:
    errors = {}
    if period_start is None:
        errors["period_start"] = ["Required for a period summary."]
    if period_end is None:
        errors["period_end"] = ["Required for a period summary."]
    if not errors and period_end < period_start:
        errors["period_end"] = ["The period must end on or after its start."]
    if not errors and (period_end - period_start).days > MAX_PERIOD_DAYS:
        errors["period_end"] = [f"A period summary covers at most {MAX_PERIOD_DAYS} days."]
    if errors:
        raise InvalidInput("The period is not valid.", field_errors=errors)
    if not has_role(actor, *OVERSIGHT_ROLES):
        raise NotAllowed(
            "Only auditors, reviewers and admins may request a period summary; "
            "engineers may request dossiers of their own deployments."
        )


@transaction.atomic
def report_request(
    *,
    actor: Actor,
    kind: str,
    deployment: Deployment | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    incident: Incident | None = None,
    foundation_model: FoundationModel | None = None,
    adaptation: Adaptation | None = None,
    audience: str = "",
) -> Report:
    """Queue a report; the worker renders it after this transaction commits. Each kind keeps only its subject."""
    if kind in DOCUMENTATION_KINDS:
        _check_documentation(actor, kind, foundation_model, adaptation, audience)
        deployment = incident = period_start = period_end = None
        # The Annex XII package is for downstream providers by definition (Art. 53(1)(b)).
        audience = audience if kind == ReportKind.MODEL_DOCUMENTATION else DocumentationAudience.DOWNSTREAM_PROVIDERS
    elif kind == ReportKind.INCIDENT_REPORT:
        _check_incident(actor, incident)
        deployment = period_start = period_end = foundation_model = adaptation = None
        audience = ""
    elif kind == ReportKind.DEPLOYMENT_DOSSIER:
        _check_dossier(actor, deployment)
        incident = period_start = period_end = foundation_model = adaptation = None
        audience = ""
    elif kind == ReportKind.PERIOD_SUMMARY:
        _check_period(actor, period_start, period_end)
        deployment = incident = foundation_model = adaptation = None
        audience = ""
    else:
        raise InvalidInput("Unknown report kind.", field_errors={"kind": [f"{kind!r} is not a report kind."]})
    report = Report.objects.create(
        kind=kind,
        deployment=deployment,
        incident=incident,
        foundation_model=foundation_model,
        adaptation=adaptation,
        audience=audience,
        period_start=period_start,
        period_end=period_end,
        requested_by=actor,
    )
    audit_record(
        action="report.request",
        actor=actor,
        obj=report,
        changes=created(
            {
                "kind": kind,
                "deployment": deployment.pk if deployment else None,
                "period_start": period_start,
                "period_end": period_end,
                **({"incident": incident.pk} if incident else {}),
                **({"foundation_model": foundation_model.pk} if foundation_model else {}),
                **({"adaptation": adaptation.pk} if adaptation else {}),
                **({"audience": audience} if audience else {}),
            }
        ),
    )
    from reports.tasks import render_report

    enqueue_on_commit(render_report, report.pk)
    return report


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=conf.task_time_limit() + 60)


def _claim(report_id: int) -> Report | None:
    """queued → running, or take over a running claim whose worker must be dead. None: nothing to do."""
    with transaction.atomic():
        report = Report.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            return None
        stale = report.state == ReportState.RUNNING and report.started_at and report.started_at < _stale_before()
        if report.state != ReportState.QUEUED and not stale:
            return None
        report.state = ReportState.RUNNING
        report.started_at = timezone.now()
        report.attempts += 1
        report.progress = 5
        report.save(update_fields=["state", "started_at", "attempts", "progress", "updated_at"])
        return report


def _progress(report: Report, value: int) -> None:
    report.progress = value
    with transaction.atomic():
        report.save(update_fields=["progress", "updated_at"])


def _fail(report: Report, attempt: int, message: str) -> None:
    with transaction.atomic():
        current = Report.objects.select_for_update().get(pk=report.pk)
        if current.state != ReportState.RUNNING or current.attempts != attempt:
            return
        current.state = ReportState.FAILED
        current.error = message[:4000]
        current.finished_at = timezone.now()
        current.render_log = report.render_log
        current.save(update_fields=["state", "error", "finished_at", "render_log", "updated_at"])
        audit_record(
            action="report.fail",
            obj=current,
            changes={"state": [ReportState.RUNNING, current.state], "error": ["", current.error]},
            context={"attempt": attempt},
        )


def report_render(*, report_id: int) -> Report | None:
    """Render a queued report once. Returns the report, or None when another delivery already has it."""
    report = _claim(report_id)
    if report is None:
        return None
    attempt = report.attempts
    try:
        evidence = EVIDENCE_OF[report.kind](report)
        evidence_json = evidence_to_json(evidence)
        report.audit_head_seq = evidence["audit_head"]["seq"]
        report.audit_head_hash = evidence["audit_head"]["hash"]
        report.render_log = {"evidence_sha256": hashlib.sha256(evidence_json.encode()).hexdigest()}
        _progress(report, 40)
        output = render_pdf(
            kind=report.kind,
            evidence_json=evidence_json,
            timeout=conf.render_timeout_seconds(),
            memory_mb=conf.render_memory_mb(),
            processes=conf.render_processes(),
            on_progress=lambda done, total: _progress(report, 40 + 50 * done // total),
            embedded_files=dossier_embedded_files(evidence.get("attachments") or {}),
        )
        report.render_log.update(output.log)
        _progress(report, 90)
    except RenderError as exc:
        _fail(report, attempt, str(exc))
        return report
    except Exception as exc:  # SoftTimeLimitExceeded, a database error: this report fails, the worker lives on
        _fail(report, attempt, f"Gathering the report's data failed: {type(exc).__name__}: {exc}")
        raise
    return _complete(report, attempt, output.pdf, output.pages)


def _complete(report: Report, attempt: int, pdf: bytes, pages: int) -> Report:
    sha256 = hashlib.sha256(pdf).hexdigest()
    name = default_storage.save(
        f"reports/{timezone.now():%Y/%m}/report-{report.pk}-{sha256[:16]}.pdf", ContentFile(pdf)
    )
    with transaction.atomic():
        current = Report.objects.select_for_update().get(pk=report.pk)
        if current.state != ReportState.RUNNING or current.attempts != attempt:
            default_storage.delete(name)  # superseded by a takeover; keep exactly one file per report
            return current
        current.state = ReportState.SUCCEEDED
        current.progress = 100
        current.finished_at = timezone.now()
        current.file.name = name
        current.sha256 = sha256
        current.size = len(pdf)
        current.pages = pages
        current.audit_head_seq = report.audit_head_seq
        current.audit_head_hash = report.audit_head_hash
        current.render_log = report.render_log
        current.error = ""
        current.save()
        audit_record(
            action="report.complete",
            obj=current,
            changes={
                "state": [ReportState.RUNNING, current.state],
                **created(
                    {
                        "sha256": sha256,
                        "size": current.size,
                        "pages": pages,
                        "file": name,
                        "audit_head_seq": current.audit_head_seq,
                        "audit_head_hash": current.audit_head_hash,
                    }
                ),
            },
            context={"evidence_sha256": current.render_log.get("evidence_sha256")},
        )
    return current


@transaction.atomic
def report_open_for_download(*, actor: Actor, report: Report):
    """Check, record the download in the trail, and open the stored file for streaming."""
    if not may_see_report(actor, report):
        raise NotAllowed("Engineers may download reports only about their own deployments.")
    if report.state != ReportState.SUCCEEDED:
        raise Conflict(f"The report is {report.state}; only a succeeded report can be downloaded.")
    audit_record(action="report.download", actor=actor, obj=report, context={"sha256": report.sha256})
    return default_storage.open(report.file.name, "rb")


def reports_sweep_stuck() -> dict[str, list[int]]:
    """Reports left running by a worker that died (SIGKILL, OOM, lost host): re-queue once, then fail.

    The broker redelivers such a task at once, but the row still looks freshly
    claimed, so that delivery stands down; past the hard time limit no worker
    can still be rendering it, and this sweep (a built-in beat schedule) acts.
    """
    requeued, failed = [], []
    for report_id in Report.objects.filter(state=ReportState.RUNNING, started_at__lt=_stale_before()).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            report = Report.objects.select_for_update().get(pk=report_id)
            if report.state != ReportState.RUNNING or report.started_at >= _stale_before():
                continue
            if report.attempts < MAX_ATTEMPTS:
                report.state = ReportState.QUEUED
                report.progress = 0
                report.save(update_fields=["state", "progress", "updated_at"])
                audit_record(
                    action="report.requeue",
                    obj=report,
                    changes={"state": [ReportState.RUNNING, report.state]},
                    context={"attempts": report.attempts},
                )
                from reports.tasks import render_report

                enqueue_on_commit(render_report, report.pk)
                requeued.append(report.pk)
            else:
                report.state = ReportState.FAILED
                report.finished_at = timezone.now()
                previous_error = report.error
                report.error = f"The worker rendering this report stopped responding {report.attempts} times."
                report.save(update_fields=["state", "finished_at", "error", "updated_at"])
                audit_record(
                    action="report.fail",
                    obj=report,
                    changes={"state": [ReportState.RUNNING, report.state], "error": [previous_error, report.error]},
                )
                failed.append(report.pk)
    return {"requeued": requeued, "failed": failed}
