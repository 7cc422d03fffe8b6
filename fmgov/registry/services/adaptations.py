"""Writes to adaptations and the lineage DAG they form.

An adaptation derives from foundation models and/or other adaptations. The
services here resolve the parents, refuse an edit that would close a cycle
(under a lock, so two concurrent edits cannot close one together) and record
the parent lists in the adaptation's own audit event.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from audits.base import bulk_writes_recorded
from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.governed import ARTIFACT_FIELDS, LINEAGE_FIELDS, ensure_artifact_unchanged
from fmgov.registry.lineage import lineage_parents_written
from fmgov.registry.models import Adaptation, AdaptationParent, FoundationModel
from fmgov.registry.selectors import adaptation_descendant_ids
from fmgov.registry.services._common import (
    _check_supersedes,
    _ensure_owner,
    _ensure_writer,
    _full_clean,
    _owner,
    _unknown_fields,
)

__all__ = ["ADAPTATION_FIELDS", "PARENT_KEYS", "adaptation_create", "adaptation_update"]

# The one list of an adaptation's writable fields, in display order (serializer, form and admin derive from it);
# the parents are separate keyword arguments, PARENT_KEYS, because they are lists of ids, not columns.
ADAPTATION_FIELDS = (
    "name",
    "version",
    "kind",
    "purpose",
    "data_summary",
    "artifact_digest",
    "hf_repo_id",
    "license",
    "model_card",
    "model_card_metadata",
    "supersedes",
)
PARENT_KEYS = ("derived_from_models", "derived_from_adaptations")

# Lineage edits take this PostgreSQL advisory lock, so two concurrent edits
# cannot each pass the cycle check and together close a cycle. (SQLite already
# serialises writers: transactions BEGIN IMMEDIATE.)
LINEAGE_LOCK_KEY = 0x666D676F76_01


def _parents_snapshot(adaptation: Adaptation) -> dict[str, list[int]]:
    edges = list(adaptation.parent_edges.order_by("id").values_list("parent_model_id", "parent_adaptation_id"))
    return {
        "derived_from_models": sorted(m for m, _ in edges if m is not None),
        "derived_from_adaptations": sorted(a for _, a in edges if a is not None),
    }


def _lock_lineage() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINEAGE_LOCK_KEY])


def _resolve_parents(model_ids: list[int], adaptation_ids: list[int]) -> tuple[list[FoundationModel], list[Adaptation]]:
    model_ids, adaptation_ids = sorted(set(model_ids)), sorted(set(adaptation_ids))
    if not model_ids and not adaptation_ids:
        message = "An adaptation needs at least one parent: a foundation model or another adaptation."
        raise InvalidInput(message, field_errors={key: [message] for key in PARENT_KEYS})
    models = list(FoundationModel.objects.filter(pk__in=model_ids))
    adaptations = list(Adaptation.objects.filter(pk__in=adaptation_ids))
    errors: dict[str, list[str]] = {}
    missing_models = sorted(set(model_ids) - {m.pk for m in models})
    missing_adaptations = sorted(set(adaptation_ids) - {a.pk for a in adaptations})
    if missing_models:
        errors["derived_from_models"] = [f"No foundation model with id {', '.join(map(str, missing_models))}."]
    if missing_adaptations:
        errors["derived_from_adaptations"] = [f"No adaptation with id {', '.join(map(str, missing_adaptations))}."]
    if errors:
        raise InvalidInput("Unknown parent.", field_errors=errors)
    return models, adaptations


def _refuse_cycle(adaptation: Adaptation, parent_adaptations: list[Adaptation]) -> None:
    """A new parent must not be the adaptation itself or anything downstream of it."""
    if not parent_adaptations:
        return
    downstream = adaptation_descendant_ids(adaptation_id=adaptation.pk) | {adaptation.pk}
    looping = sorted(str(p) for p in parent_adaptations if p.pk in downstream)
    if looping:
        message = f"The lineage must stay acyclic: {', '.join(looping)} derives from {adaptation}."
        raise InvalidInput(message, field_errors={"derived_from_adaptations": [message]})


def _write_parents(adaptation: Adaptation, models: list[FoundationModel], adaptations: list[Adaptation]) -> None:
    # Edge rows are recorded by the adaptation's own event (before/after parent lists).
    with bulk_writes_recorded():
        AdaptationParent.objects.filter(child=adaptation).delete()
        AdaptationParent.objects.bulk_create(
            [AdaptationParent(child=adaptation, parent_model=m) for m in models]
            + [AdaptationParent(child=adaptation, parent_adaptation=a) for a in adaptations]
        )
    lineage_parents_written(adaptation.pk)  # the stored roots of it and all below it, same transaction


@transaction.atomic
def adaptation_create(
    *,
    actor: Actor,
    derived_from_models: list[int] | None = None,
    derived_from_adaptations: list[int] | None = None,
    owner: AbstractBaseUser | None = None,
    **fields: Any,
) -> Adaptation:
    """Register something built on models or adaptations; at least one parent."""
    _ensure_writer(actor)
    _unknown_fields(fields, ADAPTATION_FIELDS)
    adaptation = Adaptation(owner=_owner(actor, owner), **fields)
    _full_clean(adaptation)
    _check_supersedes(adaptation)
    models, adaptations = _resolve_parents(derived_from_models or [], derived_from_adaptations or [])
    adaptation.save()
    _write_parents(adaptation, models, adaptations)  # a new node has no children: no cycle possible
    after = {**snapshot(adaptation), **_parents_snapshot(adaptation)}
    audit_record(action="adaptation.create", actor=actor, obj=adaptation, changes=created(after))
    return adaptation


@transaction.atomic
def adaptation_update(
    *,
    adaptation: Adaptation,
    actor: Actor,
    derived_from_models: list[int] | None = None,
    derived_from_adaptations: list[int] | None = None,
    **fields: Any,
) -> Adaptation:
    """Edit an adaptation; a parent list given replaces that list, and a cycle is refused.

    Its digest, licence and parents are fixed (409) once anything built on it is approved or live: a new
    version that ``supersedes`` it is registered instead. Descriptive text still changes, audited.
    """
    _unknown_fields(fields, ADAPTATION_FIELDS)
    changing_lineage = derived_from_models is not None or derived_from_adaptations is not None
    if changing_lineage:
        _lock_lineage()
    obj = Adaptation.objects.select_for_update().get(pk=adaptation.pk)
    _ensure_owner(actor, obj)
    before = {**snapshot(obj), **_parents_snapshot(obj)}
    for key, value in fields.items():
        setattr(obj, key, value)
    _full_clean(obj)
    if changing_lineage:
        model_ids = before["derived_from_models"] if derived_from_models is None else derived_from_models
        adaptation_ids = (
            before["derived_from_adaptations"] if derived_from_adaptations is None else derived_from_adaptations
        )
        models, adaptations = _resolve_parents(model_ids, adaptation_ids)
        _refuse_cycle(obj, adaptations)
    _check_supersedes(obj)
    new_parents = (
        {
            "derived_from_models": sorted(m.pk for m in models),
            "derived_from_adaptations": sorted(a.pk for a in adaptations),
        }
        if changing_lineage
        else {}
    )
    frozen = diff(before, {**snapshot(obj), **_parents_snapshot(obj), **new_parents})
    ensure_artifact_unchanged(obj, [name for name in (*ARTIFACT_FIELDS, *LINEAGE_FIELDS) if name in frozen])
    obj.save()
    if changing_lineage:
        _write_parents(obj, models, adaptations)
    after = {**snapshot(obj), **_parents_snapshot(obj)}
    changed = diff(before, after)
    if changed:
        audit_record(
            action="adaptation.update",
            actor=actor,
            obj=obj,
            changes=changed,
        )
    return obj
