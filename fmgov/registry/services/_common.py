"""What every registry write checks first: who may write, who owns, which fields.

Shared by the foundation-model, adaptation, deployment and model-card
services so that the role, ownership and validation rules are stated once
and read the same whichever record is being changed.
"""

from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Model

from audits.services import audit_record
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role

__all__ = [
    "IMPORT_ONLY_FIELDS",
    "_ensure_writer",
    "_ensure_owner",
    "_owner",
    "_unknown_fields",
    "_full_clean",
    "_check_supersedes",
]

# Writable by a service but set only from an imported model card (it is evidence): not on forms, read-only in the
# API, not editable in the admin.
IMPORT_ONLY_FIELDS = frozenset({"model_card_metadata"})


def _ensure_writer(actor: Actor) -> None:
    if actor is not None and not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may change the registry.")


def _ensure_admin(actor: Actor, what: str) -> None:
    """What admins alone allow the workers to use (credentials, local models); the system may too."""
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise NotAllowed(f"Only admins may register or change {what}.")


def _deactivate(model: type[Model], pk: int, *, actor: Actor, action: str) -> Model:
    """Switch an admin-registered object off, once, with its audit event; already off is a no-op."""
    obj = model.objects.select_for_update().get(pk=pk)
    if obj.active:
        obj.active = False
        obj.save(update_fields=["active", "updated_at"])
        audit_record(action=action, actor=actor, obj=obj, changes={"active": [True, False]})
    return obj


def _ensure_owner(actor: Actor, obj) -> None:
    """Engineers change their own records; admins and the system change any."""
    _ensure_writer(actor)
    if actor is not None and not has_role(actor, Role.ADMIN) and obj.owner_id != actor.pk:
        raise NotAllowed("You may only change records you own.")


def _owner(actor: Actor, owner: AbstractBaseUser | None) -> AbstractBaseUser:
    """The owner of a new record: the actor, or someone else only when an admin or the system says so."""
    owner = owner or actor
    if owner is None:
        raise InvalidInput("A record needs an owner.", field_errors={"owner": ["Give the owner."]})
    if actor is not None and owner.pk != actor.pk and not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may register records on someone else's behalf.")
    return owner


def _unknown_fields(fields: dict[str, Any], allowed: Collection[str]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}.", field_errors={k: ["Not a writable field."] for k in unknown}
        )


def _full_clean(obj, exclude: list[str] | None = None) -> None:
    """Model validation (validators, choices, uniqueness) as a per-field 400."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        raise InvalidInput("Please correct the highlighted fields.", field_errors=errors)


def _check_supersedes(record) -> None:
    """A model's or adaptation's chain of versions (``supersedes``) never loops."""
    seen = {record.pk} if record.pk else set()
    current = record.supersedes
    while current is not None:
        if current.pk in seen:
            raise InvalidInput(
                "A version cannot supersede itself, directly or through other versions.",
                field_errors={"supersedes": ["This would make the chain of versions a loop."]},
            )
        seen.add(current.pk)
        current = current.supersedes
