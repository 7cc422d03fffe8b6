"""ML-BOM import: the foundation models, adaptations and lineage a CycloneDX BOM describes enter the registry.

Each record is created through the registry's own services, so an import is
checked (roles, validation, lineage) and audited exactly like a hand-made
change, with the BOM's serial number in the events' context. A record is
found again by its SHA-256 digest (or, without one, by name and version), so
importing the same BOM twice writes nothing the second time. A record the
registry already holds under that digest but with other facts (name, version,
kind, lineage, provider, licence) is a conflict (409), as is a lineage cycle;
the whole import is one transaction, so a refusal leaves nothing behind.
"""

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from audits.context import bind_context
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.interop import vocabulary as v
from fmgov.interop.reading import BomNode, read_bom
from fmgov.registry import services as registry
from fmgov.registry.models import Adaptation, FoundationModel

__all__ = ["BomImported", "ml_bom_import"]

# Imports take this PostgreSQL advisory lock, so two imports of one BOM cannot both find nothing and both create.
IMPORT_LOCK_KEY = 0x666D676F76_20


@dataclass(frozen=True)
class BomImported:
    """One record an import found or created, by the component it came from."""

    bom_ref: str
    record: FoundationModel | Adaptation
    created: bool

    @property
    def kind(self) -> str:
        return v.ADAPTATION if isinstance(self.record, Adaptation) else v.FOUNDATION_MODEL


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def _parent_keys(record: FoundationModel | Adaptation) -> set[tuple[str, int]]:
    if isinstance(record, FoundationModel):
        return set()
    return {
        ("model", e.parent_model_id) if e.parent_model_id else ("adaptation", e.parent_adaptation_id)
        for e in record.parent_edges.all()
    }


def _key(record: FoundationModel | Adaptation) -> tuple[str, int]:
    return ("adaptation" if isinstance(record, Adaptation) else "model", record.pk)


def _differences(node: BomNode, record: FoundationModel | Adaptation, parents: set[tuple[str, int]]) -> list[str]:
    """What the registry's record says otherwise than the BOM; compared case-blind where spelling varies."""
    found = []
    if (node.record == v.ADAPTATION) != isinstance(record, Adaptation):
        found.append(f"it is registered as {'an adaptation' if isinstance(record, Adaptation) else 'a model'}")
    for label, mine, theirs in (("name", node.name, record.name), ("version", node.version, record.version)):
        if mine != theirs:
            found.append(f"{label} {theirs!r}, not {mine!r}")
    for label in ("provider", "license"):
        given = node.fields.get(label) or ""
        held = getattr(record, label, "") or ""
        if given and held and given.casefold() != held.casefold():
            found.append(f"{label} {held!r}, not {given!r}")
    if not found and _parent_keys(record) != parents:
        found.append("other parents in its lineage")
    return found


def _existing(node: BomNode) -> FoundationModel | Adaptation | None:
    """The record this component is: by digest, else by name and version (a digest mismatch there conflicts)."""
    if node.digest:
        for model in (FoundationModel, Adaptation):
            found = model.objects.filter(artifact_digest=node.digest).order_by("pk").first()
            if found is not None:
                return found
    model = Adaptation if node.record == v.ADAPTATION else FoundationModel
    found = model.objects.filter(name=node.name, version=node.version).first()
    if found is not None and found.artifact_digest != node.digest:
        held = found.artifact_digest or "no digest"
        raise Conflict(
            f"Component {node.ref}: {found} is registered with {held}, the BOM says {node.digest or 'no digest'}.",
            field_errors={f"components[{node.ref}]": ["Same name and version, different artifact digest."]},
        )
    return found


def _create(node: BomNode, actor: Actor, parents: list[tuple[str, int]]) -> FoundationModel | Adaptation:
    fields: dict[str, Any] = {k: val for k, val in node.fields.items() if val not in ("", None)}
    try:
        if node.record == v.FOUNDATION_MODEL:
            return registry.foundation_model_create(actor=actor, name=node.name, version=node.version, **fields)
        return registry.adaptation_create(
            actor=actor,
            name=node.name,
            version=node.version,
            derived_from_models=[pk for kind, pk in parents if kind == "model"],
            derived_from_adaptations=[pk for kind, pk in parents if kind == "adaptation"],
            **fields,
        )
    except InvalidInput as exc:
        errors = {f"components[{node.ref}].{key}": messages for key, messages in exc.field_errors.items()}
        raise InvalidInput(f"Component {node.ref}: {exc.message}", field_errors=errors) from exc


@transaction.atomic
def ml_bom_import(*, actor: Actor, document: Any) -> list[BomImported]:
    """Register what a CycloneDX ML-BOM describes; already registered records are found, not duplicated."""
    if actor is not None and not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may import into the registry.")
    nodes = read_bom(document)
    _lock()
    serial = document.get("serialNumber") if isinstance(document.get("serialNumber"), str) else None
    done: dict[str, FoundationModel | Adaptation] = {}
    results: list[BomImported] = []
    with bind_context(ml_bom_import=serial or "(no serial number)"):
        for node in nodes:
            parents = [_key(done[ref]) for ref in node.parents]
            record = _existing(node)
            if record is not None:
                differences = _differences(node, record, set(parents))
                if differences:
                    raise Conflict(
                        f"Component {node.ref} is registered as {record} with other facts: {'; '.join(differences)}.",
                        field_errors={f"components[{node.ref}]": differences},
                    )
                results.append(BomImported(node.ref, record, created=False))
            else:
                record = _create(node, actor, parents)
                results.append(BomImported(node.ref, record, created=True))
            done[node.ref] = record
    return results
