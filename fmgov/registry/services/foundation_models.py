"""Writes to foundation models: registering a version and editing its facts.

A model's versions form a chain through ``supersedes``; the services here
keep that chain free of loops, and keep a version's artifact fixed once
something built on it is approved or live (``fmgov.registry.governed``). Each service is atomic and records its audit
event in the same transaction, with before/after values, so the change and its
record commit together or not at all.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.registry.governed import ARTIFACT_FIELDS, ensure_artifact_unchanged
from fmgov.registry.models import FoundationModel
from fmgov.registry.services._common import (
    _check_supersedes,
    _ensure_owner,
    _ensure_writer,
    _full_clean,
    _owner,
    _unknown_fields,
)

__all__ = ["FOUNDATION_MODEL_FIELDS", "foundation_model_create", "foundation_model_update"]

# The one list of a foundation model's writable fields, in display order: the API serializer, the page form and
# the admin derive theirs from it (model_card_metadata only through an import, see IMPORT_ONLY_FIELDS).
FOUNDATION_MODEL_FIELDS = (
    "name",
    "version",
    "provider",
    "modality",
    "access",
    "license",
    "parameter_count",
    "architecture",
    "release_date",
    "artifact_digest",
    "hf_repo_id",
    "intended_uses",
    "out_of_scope_uses",
    "training_data_summary",
    "training_compute_flop",
    "training_energy_kwh",
    "training_emissions_tco2e",
    "model_card",
    "model_card_metadata",
    "supersedes",
)


@transaction.atomic
def foundation_model_create(*, actor: Actor, owner: AbstractBaseUser | None = None, **fields: Any) -> FoundationModel:
    """Register a foundation model version; the caller owns it unless an owner is given (system use)."""
    _ensure_writer(actor)
    _unknown_fields(fields, FOUNDATION_MODEL_FIELDS)
    model = FoundationModel(owner=_owner(actor, owner), **fields)
    _full_clean(model)
    _check_supersedes(model)
    model.save()
    audit_record(action="foundation_model.create", actor=actor, obj=model, changes=created(snapshot(model)))
    return model


@transaction.atomic
def foundation_model_update(*, foundation_model: FoundationModel, actor: Actor, **fields: Any) -> FoundationModel:
    """Edit a model's facts; records only the fields that changed.

    Its digest and licence are fixed (409) once anything built on it is approved or live: a new version
    that ``supersedes`` it is registered instead. Descriptive text still changes, audited.
    """
    _unknown_fields(fields, FOUNDATION_MODEL_FIELDS)
    model = FoundationModel.objects.select_for_update().get(pk=foundation_model.pk)
    _ensure_owner(actor, model)
    before = snapshot(model)
    for key, value in fields.items():
        setattr(model, key, value)
    _full_clean(model)
    _check_supersedes(model)
    after = snapshot(model)
    changed = diff(before, after)
    ensure_artifact_unchanged(model, [name for name in ARTIFACT_FIELDS if name in changed])
    if changed:
        model.save()
        audit_record(
            action="foundation_model.update",
            actor=actor,
            obj=model,
            changes=changed,
        )
    return model
