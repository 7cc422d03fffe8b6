"""Writes on model documentation: create (prefilled), update, freeze; each atomic and audited.

Who may write: engineers the records of the models and adaptations they own, reviewers and admins any; auditors
read. Every save is a new immutable version; a freeze stamps the current version "as submitted on" a date.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.documentation.choices import DocRole, Provenance
from fmgov.documentation.fields import field_error, normalise
from fmgov.documentation.models import DocumentationRecord, DocumentationVersion
from fmgov.documentation.prefill import prefill
from fmgov.registry.models import Adaptation, FoundationModel

__all__ = [
    "default_role",
    "may_edit",
    "documentation_create",
    "documentation_update",
    "documentation_refresh",
    "documentation_freeze",
]

Target = FoundationModel | Adaptation


def default_role(target: Target) -> str:
    """Who the organisation usually is: an adaptation's provider (Code of Practice, Transparency recital (b):
    modifying a model makes one the provider of the modified model); a registered foundation model's integrator."""
    return DocRole.PROVIDER if isinstance(target, Adaptation) else DocRole.DOWNSTREAM_PROVIDER


def may_edit(actor: Actor, target: Target) -> bool:
    """Reviewers and admins any record; an engineer the records of what they own; the system (None) any."""
    if actor is None or has_role(actor, Role.REVIEWER, Role.ADMIN):
        return True
    return has_role(actor, Role.ENGINEER) and target.owner_id == actor.pk


def _ensure_editor(actor: Actor, target: Target) -> None:
    if not may_edit(actor, target):
        raise NotAllowed("Engineers document the models and adaptations they own; reviewers and admins any.")


def _validated(values: Any, role: str | None, systemic_risk: Any) -> dict[str, Any]:
    """Names and types against the catalogue, and the settings: one 400 naming every bad field."""
    errors: dict[str, list[str]] = {}
    if role is not None and role not in DocRole.values:
        errors["role"] = [f"One of {', '.join(DocRole.values)}."]
    if systemic_risk is not None and not isinstance(systemic_risk, bool):
        errors["systemic_risk"] = ["Expected true or false."]
    if not isinstance(values, dict):
        errors["fields"] = ["Expected an object {name: value}."]
    else:
        errors |= {name: [message] for name, value in values.items() if (message := field_error(name, value))}
    if errors:
        raise InvalidInput("Please correct the highlighted documentation fields.", field_errors=errors)
    return {name: normalise(name, value) if value is not None else None for name, value in values.items()}


def _apply(fields: dict, provenance: dict, entered: dict[str, Any]) -> tuple[dict, dict, dict[str, list]]:
    """Entered values over the current ones; a value given unchanged keeps its provenance. Returns the changes."""
    fields, provenance, changes = dict(fields), dict(provenance), {}
    for name, value in sorted(entered.items()):
        if fields.get(name) == value:
            continue
        changes[f"fields.{name}"] = [fields.get(name), value]
        if value is None:
            fields.pop(name, None)
            provenance.pop(name, None)
        else:
            fields[name], provenance[name] = value, Provenance.ENTERED
    return fields, provenance, changes


def _new_version(record: DocumentationRecord, *, fields: dict, provenance: dict, author: Actor) -> DocumentationVersion:
    previous = record.current_version.number if record.current_version_id else 0
    version = DocumentationVersion.objects.create(
        record=record,
        number=previous + 1,
        role=record.role,
        systemic_risk=record.systemic_risk,
        fields=fields,
        provenance=provenance,
        author=author,
    )
    record.current_version = version
    record.save(update_fields=["current_version", "role", "systemic_risk", "updated_at"])
    return version


@transaction.atomic
def documentation_create(
    *,
    target: Target,
    actor: Actor,
    role: str | None = None,
    systemic_risk: bool | None = None,
    fields: dict[str, Any] | None = None,
) -> DocumentationRecord:
    """Start a record prefilled from the registry, the lineage and the imported card; ``fields`` entered on top."""
    _ensure_editor(actor, target)
    entered = _validated(fields if fields is not None else {}, role, systemic_risk)
    kind = "adaptation" if isinstance(target, Adaptation) else "foundation_model"
    if DocumentationRecord.objects.select_for_update().filter(**{kind: target}).exists():
        raise Conflict(f"{target} already has a documentation record; update it.")
    try:
        with transaction.atomic():  # a concurrent first save of the same target loses here, not with a 500
            record = DocumentationRecord.objects.create(
                **{kind: target}, role=role or default_role(target), systemic_risk=bool(systemic_risk)
            )
    except IntegrityError:
        raise Conflict(f"{target} already has a documentation record; update it.") from None
    prefilled, provenance = prefill(target)
    values, provenance, changes = _apply(prefilled, provenance, entered)
    version = _new_version(record, fields=values, provenance=provenance, author=actor)
    audit_record(
        action="documentation.create",
        actor=actor,
        obj=record,
        changes={
            "role": [None, record.role],
            "systemic_risk": [None, record.systemic_risk],
            "version": [None, version.number],
            **{f"fields.{k}": [None, v] for k, v in sorted(values.items())},
        },
        context={"target": f"{kind}:{target.pk}", "provenance": provenance, "entered": sorted(changes)},
    )
    return record


def _locked(record: DocumentationRecord) -> DocumentationRecord:
    return DocumentationRecord.objects.select_for_update().get(pk=record.pk)


@transaction.atomic
def documentation_update(
    *,
    record: DocumentationRecord,
    actor: Actor,
    fields: dict[str, Any] | None = None,
    role: str | None = None,
    systemic_risk: bool | None = None,
) -> DocumentationRecord:
    """Save the named fields (null clears one; fields not named keep their value) as a new version.

    Nothing changed is no new version and no event. Editing after a freeze leaves the frozen version as it was.
    """
    record = _locked(record)
    _ensure_editor(actor, record.target)
    entered = _validated(fields if fields is not None else {}, role, systemic_risk)
    current = record.current_version
    values, provenance, changes = _apply(current.fields, current.provenance, entered)
    if role is not None and role != record.role:
        changes["role"] = [record.role, role]
        record.role = role
    if systemic_risk is not None and systemic_risk != record.systemic_risk:
        changes["systemic_risk"] = [record.systemic_risk, systemic_risk]
        record.systemic_risk = systemic_risk
    if not changes:
        return record
    version = _new_version(record, fields=values, provenance=provenance, author=actor)
    changes["version"] = [current.number, version.number]
    audit_record(action="documentation.update", actor=actor, obj=record, changes=changes)
    return record


@transaction.atomic
def documentation_refresh(*, record: DocumentationRecord, actor: Actor) -> DocumentationRecord:
    """Take the registry, lineage and card again (a new version, a new parent, a re-imported card).

    Only what was derived is touched: an entered value stays, whatever the registry now says; a derived value the
    sources no longer give is removed. Nothing new is no version and no event.
    """
    record = _locked(record)
    _ensure_editor(actor, record.target)
    current = record.current_version
    fresh, fresh_provenance = prefill(record.target)
    fields, provenance, changes = dict(current.fields), dict(current.provenance), {}
    for name in sorted(set(fresh) | set(fields)):
        if provenance.get(name) == Provenance.ENTERED:
            continue
        old, new = fields.get(name), fresh.get(name)
        if old != new or (new is not None and provenance.get(name) != fresh_provenance[name]):
            changes[f"fields.{name}"] = [old, new]
            if new is None:
                fields.pop(name, None)
                provenance.pop(name, None)
            else:
                fields[name], provenance[name] = new, fresh_provenance[name]
    if not changes:
        return record
    version = _new_version(record, fields=fields, provenance=provenance, author=actor)
    changes["version"] = [current.number, version.number]
    audit_record(action="documentation.refresh", actor=actor, obj=record, changes=changes)
    return record


@transaction.atomic
def documentation_freeze(*, record: DocumentationRecord, actor: Actor) -> DocumentationRecord:
    """Stamp the current version as submitted now; it never changes, and the next edit starts a new draft."""
    record = _locked(record)
    _ensure_editor(actor, record.target)
    version = DocumentationVersion.objects.select_for_update().get(pk=record.current_version_id)
    if version.frozen_at is not None:
        raise Conflict(f"Version {version.number} was frozen on {version.frozen_at:%Y-%m-%d}; edit to start a draft.")
    version.frozen_at, version.frozen_by = timezone.now(), actor
    version.save(update_fields=["frozen_at", "frozen_by", "updated_at"])
    previous = record.frozen_version.number if record.frozen_version_id else None
    record.frozen_version = version
    record.save(update_fields=["frozen_version", "updated_at"])
    audit_record(
        action="documentation.freeze",
        actor=actor,
        obj=record,
        changes={"frozen_version": [previous, version.number], "frozen_at": [None, version.frozen_at]},
    )
    return record
