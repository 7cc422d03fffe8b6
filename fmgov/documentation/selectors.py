"""Reads on model documentation: a target's record, completeness, version diffs, and one audience's view."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from fmgov.documentation.choices import Audience
from fmgov.documentation.fields import CATALOGUE, SECTIONS, is_filled, required_fields
from fmgov.documentation.models import DocumentationRecord, DocumentationVersion
from fmgov.registry.models import Adaptation, FoundationModel

__all__ = [
    "record_list",
    "record_for",
    "completeness",
    "record_completeness",
    "portfolio_completeness",
    "version_diff",
    "versions_with_diffs",
    "documentation_for_audience",
    "latest_files_by_field",
]


def record_list() -> QuerySet[DocumentationRecord]:
    return DocumentationRecord.objects.select_related(
        "current_version", "frozen_version", "foundation_model", "adaptation"
    ).order_by("pk")


def record_for(target: FoundationModel | Adaptation) -> DocumentationRecord | None:
    kind = "adaptation" if isinstance(target, Adaptation) else "foundation_model"
    return record_list().filter(**{kind: target}).first()


def completeness(role: str, systemic_risk: bool, fields: dict[str, Any]) -> dict[str, Any]:
    """Required fields filled / required, for a role and risk tier; ``missing`` in catalogue order."""
    required = required_fields(role, systemic_risk)
    missing = [name for name in required if not is_filled(fields.get(name))]
    filled = len(required) - len(missing)
    return {
        "required": len(required),
        "filled": filled,
        "score": round(filled / len(required), 4) if required else 1.0,
        "missing": missing,
    }


def record_completeness(record: DocumentationRecord) -> dict[str, Any]:
    return completeness(record.role, record.systemic_risk, record.current_version.fields)


def portfolio_completeness() -> dict[str, Any]:
    """Over every record: required filled / required; and how many models and adaptations have no record yet."""
    required = filled = 0
    records = 0
    for role, systemic, fields in DocumentationRecord.objects.values_list(
        "role", "systemic_risk", "current_version__fields"
    ):
        score = completeness(role, systemic, fields or {})
        required, filled, records = required + score["required"], filled + score["filled"], records + 1
    documented_models = DocumentationRecord.objects.filter(foundation_model__isnull=False).count()
    documented_adaptations = records - documented_models
    return {
        "records": records,
        "required": required,
        "filled": filled,
        "score": round(filled / required, 4) if required else None,
        "without_record": (FoundationModel.objects.count() - documented_models)
        + (Adaptation.objects.count() - documented_adaptations),
    }


def version_diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """Field level: ``added`` {name: value}, ``removed`` {name: value}, ``changed`` {name: {old, new}}."""
    before = before or {}
    return {
        "added": {k: after[k] for k in sorted(after.keys() - before.keys())},
        "removed": {k: before[k] for k in sorted(before.keys() - after.keys())},
        "changed": {
            k: {"old": before[k], "new": after[k]}
            for k in sorted(before.keys() & after.keys())
            if before[k] != after[k]
        },
    }


def versions_with_diffs(record: DocumentationRecord) -> list[dict[str, Any]]:
    """Every version, newest first, each with its diff from the one before; one query."""
    rows = list(
        DocumentationVersion.objects.filter(record=record).select_related("author", "frozen_by").order_by("number")
    )
    result, previous = [], None
    for version in rows:
        result.append(
            {
                "version": version.number,
                "created_at": version.created_at,
                "author": version.author.username if version.author else None,
                "role": version.role,
                "systemic_risk": version.systemic_risk,
                "frozen_at": version.frozen_at,
                "frozen_by": version.frozen_by.username if version.frozen_by else None,
                "fields": version.fields,
                "provenance": version.provenance,
                "diff": version_diff(previous.fields if previous else None, version.fields),
            }
        )
        previous = version
    return result[::-1]


def documentation_for_audience(record: DocumentationRecord, audience: str, *, frozen: bool = False) -> dict[str, Any]:
    """What one audience receives, for rendering (PDF exports): that audience's fields only, by section.

    ``frozen`` takes the last frozen version ("as submitted on"), else the current one. Each field comes with its
    label, sources cited, value (None when empty) and provenance; ``completeness`` is of the whole record.
    """
    if audience not in Audience.values:
        raise ValueError(f"Unknown audience {audience!r}; one of {', '.join(Audience.values)}.")
    version = record.frozen_version if frozen and record.frozen_version_id else record.current_version
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key in SECTIONS}
    for spec in CATALOGUE:
        if audience not in spec.audiences or (spec.systemic_risk_only and not version.systemic_risk):
            continue
        sections[spec.section].append(
            {
                "name": spec.name,
                "label": spec.label,
                "sources": list(spec.sources),
                "required": spec.required(version.role, version.systemic_risk),
                "value": version.fields.get(spec.name),
                "provenance": version.provenance.get(spec.name),
            }
        )
    target = record.target
    return {
        "audience": audience,
        "audience_label": Audience(audience).label,
        "target": {"kind": record.target_kind, "id": target.pk, "name": target.name, "version": target.version},
        "role": version.role,
        "systemic_risk": version.systemic_risk,
        "version": version.number,
        "frozen_at": version.frozen_at,
        "sections": [
            {"key": key, "title": title, "fields": sections[key]} for key, title in SECTIONS.items() if sections[key]
        ],
        "completeness": completeness(version.role, version.systemic_risk, version.fields),
        "field_names": sorted(field["name"] for fields in sections.values() for field in fields),
    }


def latest_files_by_field(record: DocumentationRecord | None) -> dict[str, list[dict[str, Any]]]:
    """Per field, the latest revision of each evidence file on it: id, name, sha256, size (one query).

    Read through the record's reverse relation: evidence files hang on documentation fields, so the evidence app
    sits above this one and is never imported from here.
    """
    if record is None:
        return {}
    rows = (
        record.attachments.filter(superseded_by__isnull=True)
        .order_by("documentation_field", "name", "id")
        .values("id", "documentation_field", "name", "sha256", "size")
    )
    latest: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        latest.setdefault(row.pop("documentation_field"), []).append(row)
    return latest
