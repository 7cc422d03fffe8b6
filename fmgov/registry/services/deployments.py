"""Writes to deployments: proposing, editing, and moving along the status workflow.

Status changes follow ``DEPLOYMENT_TRANSITIONS``, one service per step, each
under a row lock; approval comes from the reviews app, and going live asks it
whether an approved review still holds. A deployment names the environment
variable holding its endpoint key, never the key, which ``looks_like_secret``
guards so that no credential reaches the audit trail.
"""

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, diff, snapshot
from fmgov.core.exceptions import InvalidInput, TransitionNotAllowed
from fmgov.registry.choices import DEPLOYMENT_TRANSITIONS, DeploymentStatus
from fmgov.registry.models import Deployment
from fmgov.registry.selectors import deployment_go_live_blocker
from fmgov.registry.services._common import Actor, _ensure_owner, _ensure_writer, _full_clean, _owner, _unknown_fields

__all__ = [
    "DEPLOYMENT_FIELDS",
    "looks_like_secret",
    "deployment_create",
    "deployment_update",
    "deployment_approve",
    "deployment_withdraw_approval",
    "deployment_go_live",
    "deployment_suspend",
    "deployment_retire",
]

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
# Fields whose change would make an existing approval review a different thing.
DEPLOYMENT_TARGET_FIELDS = frozenset({"foundation_model", "adaptation"})

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
