"""Evidence to the template context of a serious-incident report, and the overdue flags of the other kinds.

Runs in the renderer process from the evidence alone, like ``document``: no database, no project settings.
"""

from __future__ import annotations

from typing import Any

from reports.rendering.document import _event_line, when
from reports.rendering.markup import markdown_to_safe_html

__all__ = ["DEFINITIONS", "incident_context", "overdue_flags"]

DEFINITIONS = [
    ("Serious incident", "An incident or malfunction of an AI system that directly or indirectly led to death or "
     "serious harm to health, serious and irreversible disruption of critical infrastructure, an infringement of "
     "Union law protecting fundamental rights, or serious harm to property or the environment (EU AI Act "
     "Art. 3(49))."),
    ("Awareness", "When the organisation became aware of the incident; the legal deadline counts from here "
     "(Art. 73(2)-(4))."),
    ("Legal deadline", "The days the regime and harm category allow between awareness and the report, as "
     "configured in fmgov with their legal source."),
    ("Submission date", "When the report was made to the market surveillance authority (Art. 73) or the AI Office "
     "(Art. 55(1)(c)), as recorded in fmgov."),
    ("Overdue", "Not reported by the legal deadline: still unreported after it, or reported after it."),
    ("Chain head", "The sequence number and hash of the newest audit event when this report's data was read."),
    ("evidence.json", "The file attached to this PDF/A-3b holding every figure of this report as data; any PDF "
     "reader extracts it."),
]  # fmt: skip


def overdue_flags(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Display dates on the overdue-incident rows a report carries (none in evidence from before they existed)."""
    rows = rows or []
    for row in rows:
        row["aware_display"] = when(row["aware_at"])
        row["due_display"] = when(row["report_due_at"])
        row["reported_display"] = when(row["reported_at"]) if row["reported_at"] else ""
    return rows


def incident_context(ev: dict[str, Any]) -> dict[str, Any]:
    incident = ev["incident"]
    dates = {
        key: when(incident[key])
        for key in ("occurred_at", "aware_at", "report_due_at", "reported_at", "closed_at")
    }  # fmt: skip
    reporter = ev["reporter"]
    trail = ev["audit_trail"]
    finding = ev.get("overdue_finding")
    if finding:
        finding["opened_display"] = when(finding["opened_at"])
    attachments = ev.get("evidence_files") or []
    for f in attachments:
        f["uploaded_display"] = when(f["uploaded_at"])
    events = [
        (e["seq"], when(e["timestamp"]).removesuffix(" UTC"), _event_line(e), e["hash"][:16]) for e in trail["events"]
    ]
    return {
        "incident": incident,
        "dates": dates,
        "reporter": reporter,
        "confirmed_display": when(reporter["confirmed_at"]),
        "systems": ev["systems"],
        "description_html": markdown_to_safe_html(incident["description"]),
        "corrective_html": markdown_to_safe_html(incident["corrective_measures"]),
        "root_cause_html": markdown_to_safe_html(incident["root_cause"]),
        "finding": finding,
        "attachments": attachments,
        "events": events,
        "event_count": len(events),
        "verification": trail["verification"],
        "definitions": DEFINITIONS,
        "subject_line": f"Incident #{incident['id']}: {incident['summary']}",
    }
