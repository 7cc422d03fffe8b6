"""Evidence to the template context of the documentation exports (model documentation, Annex XII package).

Runs in the renderer process from the evidence alone, like ``document``: no database, no project settings.
"""

from __future__ import annotations

from typing import Any

from reports.rendering.document import _number, when
from reports.rendering.incident import overdue_flags

__all__ = ["documentation_context", "downstream_context"]

DEFINITIONS = [
    ("Audience", "Who a field is for, as the Model Documentation Form of the General-Purpose AI Code of Practice "
     "marks it: the AI Office, national competent authorities, downstream providers. This document holds only "
     "the fields of its audience."),
    ("Source", "The article, annex point or form item that asks for the field (Regulation (EU) 2024/1689)."),
    ("Provenance", "Where the value came from: entered by a person, imported from the model card, or derived from "
     "the lineage or the registry."),
    ("Version", "Every save of a documentation record is a new version that is never changed afterwards."),
    ("As submitted on", "A frozen version: the version submitted on that date. Later edits make a new draft and "
     "leave it as it was."),
    ("Completeness", "Required fields filled over required fields, for the organisation's role and risk tier, "
     "over the whole record (every audience)."),
    ("Chain head", "The sequence number and hash of the newest audit event when this document's data was read."),
    ("evidence.json", "The file attached to this PDF/A-3b holding this document's data; any PDF reader extracts "
     "it."),
]  # fmt: skip

ROLE_LABELS = {
    "provider": "Provider placing it on the market",
    "downstream_provider": "Downstream provider integrating it",
    "deployer": "Deployer",
}


def _display(field: dict[str, Any], provenance_labels: dict[str, str], files: dict[str, list]) -> dict[str, Any]:
    value = field["value"]
    shown = dict(field)
    shown["attachments"] = files.get(field["name"], [])
    shown["empty"] = value is None or value == "" or value == []
    shown["items"] = value if isinstance(value, list) else None
    shown["text"] = _number(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    shown["provenance_label"] = provenance_labels.get(field["provenance"] or "", "")
    return shown


def _base(ev: dict[str, Any]) -> dict[str, Any]:
    doc, record, subject = ev["documentation"], ev["record"], ev["subject"]
    labels, files = ev["provenance_labels"], ev.get("attachments") or {}
    sections = [
        {"key": s["key"], "title": s["title"], "fields": [_display(f, labels, files) for f in s["fields"]]}
        for s in doc["sections"]
    ]
    for v in record["versions"]:
        v["created_display"] = when(v["created_at"])
        v["frozen_display"] = when(v["frozen_at"])
    completeness = doc["completeness"]
    frozen_day = when(record["frozen_at"])[:10] if record["exported"] == "frozen" else ""
    return {
        "doc": doc,
        "record": record,
        "subject": subject,
        "sections": sections,
        "fields_by_name": {f["name"]: f for s in sections for f in s["fields"]},
        "role_label": ROLE_LABELS.get(doc["role"], doc["role"]),
        "frozen_day": frozen_day,
        "completeness_percent": f"{completeness['score'] * 100:.0f}",
        "verification": ev["audit_trail"]["verification"],
        "definitions": DEFINITIONS,
        "overdue_incidents": overdue_flags(ev.get("overdue_incidents")),
        "overdue_scope": "Serious incidents naming this model, a deployment running it, or a model it rests on.",
        "subject_line": f"{subject['name']} {subject['version']}",
    }


def documentation_context(ev: dict[str, Any]) -> dict[str, Any]:
    return _base(ev)


def downstream_context(ev: dict[str, Any]) -> dict[str, Any]:
    context = _base(ev)
    by_name = context["fields_by_name"]
    first_point = {n: item["point"] for part in ev["annex_xii"] for item in part["items"] for n in item["fields"]}
    context["annex_xii"] = [
        {
            "point": part["point"],
            "title": part["title"],
            "fields": [by_name[n] for n in part["fields"]],
            "items": [
                {
                    **item,
                    "fields": [by_name[n] for n in item["fields"]],
                    "also": [{"label": by_name[n]["label"], "point": first_point[n]} for n in item["also"]],
                }
                for item in part["items"]
            ],
        }
        for part in ev["annex_xii"]
    ]
    context["form_additions"] = [by_name[n] for n in ev["form_additions"]]
    return context
