"""Writes to the registry. Each service is atomic and records its audit event.

The event is written in the same transaction as the change, with before/after
values, so the change and its record commit together or not at all. Services
check roles and ownership themselves, because API views, UI views, admin
actions and commands all call them.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from audits.services import audit_record, diff, snapshot
from fmgov.core.context import bind_context
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.models import bulk_writes_recorded
from fmgov.core.roles import Role, has_role
from fmgov.registry.choices import DEPLOYMENT_TRANSITIONS, Access, DeploymentStatus
from fmgov.registry.model_cards import infer_adaptation_kind, infer_modality, parse_model_card
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.selectors import adaptation_descendant_ids, deployment_go_live_blocker

__all__ = [
    "FOUNDATION_MODEL_FIELDS",
    "ADAPTATION_FIELDS",
    "DEPLOYMENT_FIELDS",
    "looks_like_secret",
    "foundation_model_create",
    "foundation_model_update",
    "adaptation_create",
    "adaptation_update",
    "deployment_create",
    "deployment_update",
    "deployment_approve",
    "deployment_withdraw_approval",
    "deployment_go_live",
    "deployment_suspend",
    "deployment_retire",
    "CardImport",
    "model_card_import",
]

FOUNDATION_MODEL_FIELDS = frozenset(
    {
        "name",
        "version",
        "provider",
        "modality",
        "license",
        "access",
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
    }
)
ADAPTATION_FIELDS = frozenset(
    {
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
    }
)
DEPLOYMENT_FIELDS = frozenset(
    {
        "name",
        "foundation_model",
        "adaptation",
        "environment",
        "endpoint_adapter",
        "endpoint_base_url",
        "endpoint_model",
        "endpoint_api_key_env",
        "region",
        "expected_requests_per_day",
        "expected_tokens_per_request",
    }
)
# The person acting; None means the system (a task, the demo seed), recorded by its ``system`` name.
Actor = AbstractBaseUser | None
# Fields whose change would make an existing approval review a different thing.
DEPLOYMENT_TARGET_FIELDS = frozenset({"foundation_model", "adaptation"})
PARENT_KEYS = ("derived_from_models", "derived_from_adaptations")

# Lineage edits take this PostgreSQL advisory lock, so two concurrent edits
# cannot each pass the cycle check and together close a cycle. (SQLite already
# serialises writers: transactions BEGIN IMMEDIATE.)
LINEAGE_LOCK_KEY = 0x666D676F76_01

_SECRET_PREFIXES = ("sk-", "sk_", "hf_", "ghp_", "gho_", "ghs_", "github_pat_", "xox", "glpat-", "AKIA", "ASIA", "AIza")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=-]{16,}")


def looks_like_secret(value: str) -> bool:
    """True if ``value`` looks like a credential rather than a variable name.

    Deployments store the *name* of the variable holding the key; a key pasted
    here would end up in the audit trail for ever, so the check errs on the
    side of refusing.
    """
    if not value:
        return False
    if any(value.startswith(p) for p in _SECRET_PREFIXES) or any(ch.isspace() for ch in value):
        return True
    for segment in value.split("_"):
        # Words in variable names are short; a long run mixing letters and digits is a key.
        if _LONG_TOKEN.fullmatch(segment) and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment):
            return True
    return False


# --- helpers -----------------------------------------------------------------


def _ensure_writer(actor) -> None:
    if actor is not None and not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may change the registry.")


def _ensure_owner(actor, obj) -> None:
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


def _unknown_fields(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(fields) - allowed)
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


# --- foundation models -------------------------------------------------------


def _check_supersedes(model: FoundationModel) -> None:
    seen = {model.pk} if model.pk else set()
    current = model.supersedes
    while current is not None:
        if current.pk in seen:
            raise InvalidInput(
                "A model cannot supersede itself, directly or through other versions.",
                field_errors={"supersedes": ["This would make the chain of versions a loop."]},
            )
        seen.add(current.pk)
        current = current.supersedes


@transaction.atomic
def foundation_model_create(*, actor: Actor, owner: AbstractBaseUser | None = None, **fields: Any) -> FoundationModel:
    """Register a foundation model version; the caller owns it unless an owner is given (system use)."""
    _ensure_writer(actor)
    _unknown_fields(fields, FOUNDATION_MODEL_FIELDS)
    model = FoundationModel(owner=_owner(actor, owner), **fields)
    _full_clean(model)
    _check_supersedes(model)
    model.save()
    audit_record(
        action="foundation_model.create", actor=actor, obj=model, changes={"before": {}, "after": snapshot(model)}
    )
    return model


@transaction.atomic
def foundation_model_update(*, foundation_model: FoundationModel, actor: Actor, **fields: Any) -> FoundationModel:
    """Edit a model's facts; records only the fields that changed."""
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
    if changed:
        model.save()
        audit_record(
            action="foundation_model.update",
            actor=actor,
            obj=model,
            changes={"before": {k: v[0] for k, v in changed.items()}, "after": {k: v[1] for k, v in changed.items()}},
        )
    return model


# --- adaptations ---------------------------------------------------------------


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
    models, adaptations = _resolve_parents(derived_from_models or [], derived_from_adaptations or [])
    adaptation.save()
    _write_parents(adaptation, models, adaptations)  # a new node has no children: no cycle possible
    after = {**snapshot(adaptation), **_parents_snapshot(adaptation)}
    audit_record(action="adaptation.create", actor=actor, obj=adaptation, changes={"before": {}, "after": after})
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
    """Edit an adaptation; a parent list given replaces that list, and a cycle is refused."""
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
            changes={"before": {k: v[0] for k, v in changed.items()}, "after": {k: v[1] for k, v in changed.items()}},
        )
    return obj


# --- deployments ---------------------------------------------------------------


def _validate_deployment(deployment: Deployment) -> None:
    has_model, has_adaptation = deployment.foundation_model_id is not None, deployment.adaptation_id is not None
    if has_model == has_adaptation:
        message = (
            "Give either a foundation model or an adaptation, not both."
            if has_model
            else "Give the foundation model or the adaptation this deployment serves."
        )
        raise InvalidInput(message, field_errors={"foundation_model": [message], "adaptation": [message]})
    if looks_like_secret(deployment.endpoint_api_key_env):
        message = (
            "This looks like a secret. Give the NAME of the environment variable that holds the key "
            "(for example OPENAI_API_KEY), never the key itself."
        )
        raise InvalidInput(message, field_errors={"endpoint_api_key_env": [message]})
    if "@" in deployment.endpoint_base_url.split("//", 1)[-1].split("/", 1)[0]:
        message = "The base URL must not carry credentials; name an environment variable in api_key_env instead."
        raise InvalidInput(message, field_errors={"endpoint_base_url": [message]})
    _full_clean(deployment)


@transaction.atomic
def deployment_create(*, actor: Actor, owner: AbstractBaseUser | None = None, **fields: Any) -> Deployment:
    """Propose a deployment of one model or adaptation; it starts as proposed."""
    _ensure_writer(actor)
    _unknown_fields(fields, DEPLOYMENT_FIELDS)
    deployment = Deployment(owner=_owner(actor, owner), status=DeploymentStatus.PROPOSED, **fields)
    _validate_deployment(deployment)
    deployment.save()
    audit_record(
        action="deployment.create", actor=actor, obj=deployment, changes={"before": {}, "after": snapshot(deployment)}
    )
    return deployment


@transaction.atomic
def deployment_update(*, deployment: Deployment, actor: Actor, **fields: Any) -> Deployment:
    """Edit a deployment's description; status changes are separate services."""
    _unknown_fields(fields, DEPLOYMENT_FIELDS)
    obj = Deployment.objects.select_for_update().get(pk=deployment.pk)
    _ensure_owner(actor, obj)
    if obj.status == DeploymentStatus.RETIRED:
        raise TransitionNotAllowed("A retired deployment is a closed record and cannot be edited.")
    before = snapshot(obj)
    for key, value in fields.items():
        setattr(obj, key, value)
    after = snapshot(obj)
    retargeted = {k for k in DEPLOYMENT_TARGET_FIELDS if before.get(k) != after.get(k)}
    if retargeted and obj.status != DeploymentStatus.PROPOSED:
        raise TransitionNotAllowed(
            f"The target of a {obj.status} deployment cannot change: its review was for that version. "
            "Propose a new deployment instead."
        )
    _validate_deployment(obj)
    changed = diff(before, after)
    if changed:
        obj.save()
        audit_record(
            action="deployment.update",
            actor=actor,
            obj=obj,
            changes={"before": {k: v[0] for k, v in changed.items()}, "after": {k: v[1] for k, v in changed.items()}},
        )
    return obj


def _transition(
    *,
    deployment: Deployment,
    to: str,
    action: str,
    actor: Actor = None,
    system: str = "",
    extra: dict[str, Any] | None = None,
) -> Deployment:
    """Move along the transition table and record it; the caller holds the row lock."""
    if to not in DEPLOYMENT_TRANSITIONS[deployment.status]:
        raise TransitionNotAllowed(f"A {deployment.status} deployment cannot become {to}.")
    before = {"status": deployment.status, "went_live_at": deployment.went_live_at}
    deployment.status = to
    if to == DeploymentStatus.LIVE:
        deployment.went_live_at = timezone.now()
    deployment.save(update_fields=["status", "went_live_at", "updated_at"])
    after = {"status": deployment.status, "went_live_at": deployment.went_live_at}
    audit_record(
        action=action,
        actor=actor,
        system=system,
        obj=deployment,
        changes={"before": before, "after": after, **(extra or {})},
    )
    return deployment


def _locked(deployment: Deployment) -> Deployment:
    return (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("foundation_model", "adaptation")
        .get(pk=deployment.pk)
    )


@transaction.atomic
def deployment_approve(*, deployment: Deployment, actor: Actor, review: Any = None, system: str = "") -> Deployment:
    """Called by the reviews app when a review is approved (proposed/suspended → approved).

    An approved or live deployment stays as it is: a further approved review
    changes nothing here (the review itself is audited by the reviews app).
    """
    obj = _locked(deployment)
    if obj.status in (DeploymentStatus.APPROVED, DeploymentStatus.LIVE):
        return obj
    extra = {"review": getattr(review, "pk", None)}
    return _transition(
        deployment=obj,
        to=DeploymentStatus.APPROVED,
        action="deployment.approve",
        actor=actor,
        system=system,
        extra=extra,
    )


@transaction.atomic
def deployment_withdraw_approval(*, deployment: Deployment, actor: Actor, reason: str, system: str = "") -> Deployment:
    """An approval no longer holds (revoked, expired): approved → proposed, live → suspended, else nothing."""
    obj = _locked(deployment)
    to = {DeploymentStatus.APPROVED: DeploymentStatus.PROPOSED, DeploymentStatus.LIVE: DeploymentStatus.SUSPENDED}
    if obj.status not in to:
        return obj
    return _transition(
        deployment=obj,
        to=to[obj.status],
        action="deployment.withdraw_approval",
        actor=actor,
        system=system,
        extra={"reason": reason},
    )


@transaction.atomic
def deployment_go_live(*, deployment: Deployment, actor: Actor) -> Deployment:
    """approved/suspended → live, only while the reviews app sees a valid approved review."""
    obj = _locked(deployment)
    _ensure_owner(actor, obj)
    if obj.status in (DeploymentStatus.PROPOSED, DeploymentStatus.APPROVED, DeploymentStatus.SUSPENDED):
        blocker = deployment_go_live_blocker(obj)
        if blocker:
            raise TransitionNotAllowed(f"Cannot go live: {blocker}")
    return _transition(deployment=obj, to=DeploymentStatus.LIVE, action="deployment.go_live", actor=actor)


@transaction.atomic
def deployment_suspend(*, deployment: Deployment, actor: Actor, reason: str = "") -> Deployment:
    """Take a live deployment out of service; going live again needs a valid approval."""
    obj = _locked(deployment)
    _ensure_owner(actor, obj)
    return _transition(
        deployment=obj,
        to=DeploymentStatus.SUSPENDED,
        action="deployment.suspend",
        actor=actor,
        extra={"reason": reason},
    )


@transaction.atomic
def deployment_retire(*, deployment: Deployment, actor: Actor, reason: str = "") -> Deployment:
    """Close a deployment for good; the record stays for the audit."""
    obj = _locked(deployment)
    _ensure_owner(actor, obj)
    return _transition(
        deployment=obj, to=DeploymentStatus.RETIRED, action="deployment.retire", actor=actor, extra={"reason": reason}
    )


# --- model cards -----------------------------------------------------------------

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class CardImport:
    """What an import did: the record, whether it was new, and base models not in the registry."""

    record: FoundationModel | Adaptation
    created: bool
    unresolved_base_models: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "adaptation" if isinstance(self.record, Adaptation) else "foundation_model"


def _find_by_repo(model: type[FoundationModel] | type[Adaptation], repo: str) -> FoundationModel | Adaptation | None:
    return model.objects.filter(hf_repo_id__iexact=repo).order_by("-id").first() if repo else None


@transaction.atomic
def model_card_import(
    *,
    actor: Actor,
    card: str,
    hf_repo_id: str = "",
    name: str = "",
    version: str = "",
    provider: str = "",
    modality: str = "",
    access: str = "",
    kind: str = "",
) -> CardImport:
    """Create or update a record from a Hugging Face model card.

    A card whose ``base_model`` names a registered model or adaptation (by
    Hugging Face repo id) becomes an adaptation of it; any other card a
    foundation model. The record is found again by repo id (or name and
    version), so importing the same card twice updates rather than duplicates.
    The create/update services record the audit events.
    """
    _ensure_writer(actor)
    hf_repo_id = hf_repo_id.strip()
    if hf_repo_id and not _REPO_ID.match(hf_repo_id):
        raise InvalidInput("Not a Hugging Face repo id.", field_errors={"hf_repo_id": ["Expected owner/name."]})
    parsed = parse_model_card(card)
    repo = hf_repo_id or parsed.repo_id_in_title
    name = name.strip() or repo.rpartition("/")[2] or parsed.model_index_name or parsed.title.rpartition("/")[2]
    if not name:
        message = "The card names no model: give a name or the Hugging Face repo id."
        raise InvalidInput(message, field_errors={"name": [message]})

    parent_models, parent_adaptations, unresolved = [], [], []
    for base in parsed.base_models:
        if found := _find_by_repo(FoundationModel, base):
            parent_models.append(found.pk)
        elif found := _find_by_repo(Adaptation, base):
            parent_adaptations.append(found.pk)
        else:
            unresolved.append(base)

    common = {"license": parsed.license, "model_card": parsed.body, "model_card_metadata": parsed.metadata()}
    if repo:
        common["hf_repo_id"] = repo
    datasets = f"Datasets named in the model card: {', '.join(parsed.datasets)}." if parsed.datasets else ""

    with bind_context(model_card_import=repo or name):
        if parent_models or parent_adaptations:
            existing = (
                _find_by_repo(Adaptation, repo) or Adaptation.objects.filter(name=name, version=version or "1").first()
            )
            fields = {**common, **({"kind": kind} if kind else {}), **({"version": version} if version else {})}
            if datasets and not (existing and existing.data_summary):
                fields["data_summary"] = datasets
            parents = {"derived_from_models": parent_models, "derived_from_adaptations": parent_adaptations}
            if existing:
                record = adaptation_update(adaptation=existing, actor=actor, **parents, **fields)
                return CardImport(record, False, unresolved)
            fields.setdefault("kind", infer_adaptation_kind(parsed, repo or name))
            record = adaptation_create(actor=actor, name=name, **parents, **fields)
            return CardImport(record, True, unresolved)

        existing = (
            _find_by_repo(FoundationModel, repo)
            or FoundationModel.objects.filter(name=name, version=version or "1").first()
        )
        fields = dict(common)
        for key, value in (("version", version), ("provider", provider), ("modality", modality), ("access", access)):
            if value:
                fields[key] = value
        if parsed.emissions_grams is not None:
            fields["training_emissions_tco2e"] = parsed.emissions_grams / 1_000_000  # grams → tonnes
        if datasets and not (existing and existing.training_data_summary):
            fields["training_data_summary"] = datasets
        if existing:
            record = foundation_model_update(foundation_model=existing, actor=actor, **fields)
            return CardImport(record, False, unresolved)
        fields.setdefault("provider", repo.partition("/")[0] if repo else "")
        fields.setdefault("modality", infer_modality(parsed) or "")
        fields.setdefault("access", Access.OPEN_WEIGHTS)  # a card on the Hub is usually for published weights
        errors = {}
        if not fields["provider"]:
            errors["provider"] = ["The card does not say who provides the model: give provider or hf_repo_id."]
        if not fields["modality"]:
            errors["modality"] = ["The card has no pipeline_tag or other sign of its modality: give modality."]
        if errors:
            raise InvalidInput("The card lacks facts the registry needs.", field_errors=errors)
        record = foundation_model_create(actor=actor, name=name, **fields)
        return CardImport(record, True, unresolved)
