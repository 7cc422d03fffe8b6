"""What both report kinds' evidence is made of: timestamps, events, the chain's verification, the header."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from audits.canonical import format_timestamp
from audits.changes import context_notes
from audits.selectors import chain_head, verify_chain
from fmgov.core.roles import Role
from reports.models import Report

EVIDENCE_SCHEMA = "fmgov.report-evidence/1"
OVERSIGHT_ROLES = (Role.AUDITOR, Role.REVIEWER, Role.ADMIN)


def ts(value: dt.datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def threshold_parts(threshold: Any) -> tuple[str | None, float | None]:
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        return None, float(threshold)
    if isinstance(threshold, dict):
        value = threshold.get("value", threshold.get("threshold"))
        op = threshold.get("op") or threshold.get("operator")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return op, float(value)
    return None, None


def metric_uncertainty(metric: Any) -> dict[str, Any]:
    """A stored metric's sample size, 95% interval and method, and the interval bound its threshold is judged on.

    Issue 17: a value without its uncertainty misleads; the reports show these beside every value.
    """
    rule = metric.threshold if isinstance(metric.threshold, dict) else {}
    return {"n": metric.n, "ci_low": metric.ci_low, "ci_high": metric.ci_high, "method": metric.method,
            "insufficient": metric.insufficient, "on": rule.get("on")}  # fmt: skip


def user_name(user) -> str:
    return user.username if user else ""


def event_row(e) -> dict[str, Any]:
    """An event as its hashed bytes say (AuditEvent.from_db); ``altered_columns`` only when a column was edited."""
    row = {
        "seq": e.seq,
        "timestamp": ts(e.timestamp),
        "actor": e.actor_username or e.actor_system,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "changes": e.changes,
        "notes": context_notes(e.context),
        "hash": e.hash,
    }
    if e.altered_columns:
        row["altered_columns"] = list(e.altered_columns)
    return row


def chain_verification() -> dict[str, Any]:
    """Every event checked exactly, columns included: a report is rare, and its readers count what filters chose."""
    result = verify_chain(columns=True)
    return {
        "ok": result.ok,
        "length": result.length,
        "head_hash": result.head_hash,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
        "checkpoints_checked": result.checkpoints_checked,
    }


def finding_row(f) -> dict[str, Any]:
    """A ``findings.Finding`` of any source; metric, value and threshold are those its source measured."""
    detail = f.detail if isinstance(f.detail, dict) else {}
    op, limit = threshold_parts(detail.get("threshold"))
    deployment = f.subject_id if f.subject_type and f.subject_type.model == "deployment" else None
    return {"id": f.pk, "source": f.source, "title": f.title, "subject": f.subject_label, "deployment": deployment,
            "run": detail.get("run"), "metric": detail.get("metric"), "value": detail.get("value"),
            "n": detail.get("n"), "ci_low": detail.get("ci_low"), "ci_high": detail.get("ci_high"),
            "on": (detail.get("threshold") or {}).get("on") if isinstance(detail.get("threshold"), dict) else None,
            "threshold": detail.get("threshold"), "op": op, "limit": limit, "severity": f.severity,
            "status": f.state, "note": f.note, "opened_at": ts(f.opened_at),
            "acknowledged_by": user_name(f.acknowledged_by), "acknowledged_at": ts(f.acknowledged_at),
            "resolved_by": user_name(f.resolved_by), "resolved_at": ts(f.resolved_at)}  # fmt: skip


def evidence_header(report: Report) -> dict[str, Any]:
    seq, head_hash = chain_head()
    return {
        "schema": EVIDENCE_SCHEMA,
        "report": {
            "id": report.pk,
            "kind": report.kind,
            "title": report.title,
            "requested_by": user_name(report.requested_by),
            "requested_at": ts(report.created_at),
            "generated_at": ts(timezone.now()),
        },
        "audit_head": {"seq": seq, "hash": head_hash},
    }


def model_row(model) -> dict[str, Any]:
    """A foundation model as the reports' evidence names it: identity, provider, digest and licence."""
    return {
        "id": model.pk,
        "name": model.name,
        "version": model.version,
        "provider": model.provider,
        "digest": model.artifact_digest,
        "licence": model.license,
    }
