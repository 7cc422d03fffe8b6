"""Writes to deployments: proposing, editing, and moving along the status workflow.

Status changes follow ``DEPLOYMENT_TRANSITIONS``, one service per step, each
under a row lock; approval comes from the reviews app, and going live asks it
whether an approved review still holds. A deployment names an admin-registered
credential (``endpoint_credential``), never a key or a variable; its base URL
is stored with any userinfo or secret query parameter redacted, and the audit
event says what kind was removed, never what.
"""

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, TransitionNotAllowed
from fmgov.core.redaction import redact_url
from fmgov.registry.choices import DEPLOYMENT_TRANSITIONS, HTTP_ADAPTERS, DeploymentStatus, EndpointAdapter
from fmgov.registry.governed import GOVERNED_FIELDS, ensure_governed_unchanged, governed_changes, governed_values
from fmgov.registry.models import Deployment, LocalModel
from fmgov.registry.selectors import deployment_go_live_blocker
from fmgov.registry.services._common import _ensure_owner, _ensure_writer, _full_clean, _owner, _unknown_fields

__all__ = [
    "DEPLOYMENT_FIELDS",
    "DEPLOYMENT_ENDPOINT_FIELDS",
    "deployment_create",
    "deployment_update",
    "deployment_approve",
    "deployment_withdraw_approval",
    "deployment_go_live",
    "deployment_suspend",
    "deployment_retire",
]

# How a worker reaches the deployment; the API nests these four under ``endpoint`` (adapter, base_url, model,
# credential: see registry.api.serializers.EndpointSerializer), forms and the admin keep them flat.
DEPLOYMENT_ENDPOINT_FIELDS = ("endpoint_adapter", "endpoint_base_url", "endpoint_model", "endpoint_credential")
# The one list of a deployment's writable fields, in display order; serializer, form and admin derive from it.
DEPLOYMENT_FIELDS = (
    "name",
    "foundation_model",
    "adaptation",
    "environment",
    *DEPLOYMENT_ENDPOINT_FIELDS,
    "region",
    "expected_requests_per_day",
    "expected_tokens_per_request",
)
# Fields whose change would make an existing approval review a different thing.
DEPLOYMENT_TARGET_FIELDS = frozenset({"foundation_model", "adaptation"})


def _validate_deployment(deployment: Deployment, *, credential_changed: bool = True) -> list[str]:
    """Check the description and store the URL redacted; return the kinds of secret redacted from it."""
    has_model, has_adaptation = deployment.foundation_model_id is not None, deployment.adaptation_id is not None
    if has_model == has_adaptation:
        message = (
            "Give either a foundation model or an adaptation, not both."
            if has_model
            else "Give the foundation model or the adaptation this deployment serves."
        )
        raise InvalidInput(message, field_errors={"foundation_model": [message], "adaptation": [message]})
    credential = deployment.endpoint_credential
    if credential is not None and credential_changed and not credential.active:
        message = f"The credential {credential.name} is deactivated; name an active registered credential."
        raise InvalidInput(message, field_errors={"endpoint_credential": [message]})
    if credential is not None and deployment.endpoint_adapter not in HTTP_ADAPTERS:
        message = "Only an HTTP endpoint adapter sends a credential."
        raise InvalidInput(message, field_errors={"endpoint_credential": [message]})
    if deployment.endpoint_adapter == EndpointAdapter.LOCAL_SENTENCE_TRANSFORMERS and not (
        LocalModel.objects.filter(name=deployment.endpoint_model, active=True).exists()
    ):
        message = "Name a local model an admin registered (the local adapter loads nothing else)."
        raise InvalidInput(message, field_errors={"endpoint_model": [message]})
    _full_clean(deployment)
    redacted = redact_url(deployment.endpoint_base_url)
    deployment.endpoint_base_url = _without_userinfo(redacted.text)
    return list(redacted.kinds)


def _without_userinfo(url: str) -> str:
    """The URL a worker can call: a redaction marker where the userinfo was would be sent as a password."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" not in authority:
        return url
    return f"{scheme}://{authority.rsplit('@', 1)[1]}{rest[len(authority) :]}"


def _save_new(deployment: Deployment, *, actor: Actor, action: str, context: dict[str, Any] | None = None) -> None:
    """Validate and save a proposed deployment (a new one or a revision) with its creation event."""
    redacted = _validate_deployment(deployment)
    deployment.save()
    context = {**(context or {}), **({"redacted": redacted} if redacted else {})}
    audit_record(
        action=action, actor=actor, obj=deployment, changes=created(snapshot(deployment)), context=context or None
    )


@transaction.atomic
def deployment_create(*, actor: Actor, owner: AbstractBaseUser | None = None, **fields: Any) -> Deployment:
    """Propose a deployment of one model or adaptation; it starts as proposed."""
    _ensure_writer(actor)
    _unknown_fields(fields, DEPLOYMENT_FIELDS)
    deployment = Deployment(owner=_owner(actor, owner), status=DeploymentStatus.PROPOSED, **fields)
    _save_new(deployment, actor=actor, action="deployment.create")
    return deployment


@transaction.atomic
def deployment_update(*, deployment: Deployment, actor: Actor, **fields: Any) -> Deployment:
    """Edit a deployment's description; status changes are separate services.

    On an approved or live deployment the governed fields are frozen (409): a change is a revision.
    """
    _unknown_fields(fields, DEPLOYMENT_FIELDS)
    obj = Deployment.objects.select_for_update().get(pk=deployment.pk)
    _ensure_owner(actor, obj)
    if obj.status == DeploymentStatus.RETIRED:
        raise TransitionNotAllowed("A retired deployment is a closed record and cannot be edited.")
    before, governed_before = snapshot(obj), governed_values(obj)
    for key, value in fields.items():
        setattr(obj, key, value)
    after = snapshot(obj)
    retargeted = {k for k in DEPLOYMENT_TARGET_FIELDS if before.get(k) != after.get(k)}
    ensure_governed_unchanged(obj, [k for k in GOVERNED_FIELDS if k in retargeted])
    if retargeted and obj.status != DeploymentStatus.PROPOSED:
        raise TransitionNotAllowed(
            f"The target of a {obj.status} deployment cannot change: its review was for that version. "
            "Propose a new deployment instead."
        )
    redacted = _validate_deployment(obj, credential_changed="endpoint_credential" in fields)
    # Compared once the URL is stored as it would be (redacted): resending the same endpoint is no change.
    ensure_governed_unchanged(obj, governed_changes(governed_before, governed_values(obj)))
    changed = diff(before, snapshot(obj))
    if changed:
        obj.save()
        audit_record(
            action="deployment.update",
            actor=actor,
            obj=obj,
            changes=changed,
            context={"redacted": redacted} if redacted else None,
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
    """Move along the transition table and record it (``extra``, e.g. a reason, as context); caller holds the lock."""
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
        changes=diff(before, after),
        context=extra,
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
    """approved/suspended → live, only while the reviews app sees a valid approved review.

    A revision's go-live also retires the deployment it revises and hands its work over, in this transaction.
    """
    obj = _locked(deployment)
    _ensure_owner(actor, obj)
    if obj.status in (DeploymentStatus.PROPOSED, DeploymentStatus.APPROVED, DeploymentStatus.SUSPENDED):
        blocker = deployment_go_live_blocker(obj)
        if blocker:
            raise TransitionNotAllowed(f"Cannot go live: {blocker}")
    if obj.revises_id is not None:
        from fmgov.registry.services.revisions import revision_go_live  # builds on this module's helpers

        return revision_go_live(revision=obj, actor=actor)
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
