"""Deployment revisions: how an approved or live deployment changes what it governs.

The governed fields of an approved or live deployment are frozen
(``fmgov.registry.governed``). A change is proposed as a new deployment that
``revises`` the current one, carrying the current description with the
requested changes; it is reviewed like any proposal. Its go-live, in one
transaction, puts it live, retires the deployment it revises and hands that
deployment's work (active findings, evaluation schedules, and whatever else an
app registers in ``registry.hooks.DEPLOYMENT_HANDOVERS``) over to it, one audit
event per change: at every committed moment exactly one of the two runs.
"""

from typing import Any

from django.db import transaction

from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.findings.services import findings_move_subject
from fmgov.registry import hooks
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.governed import FROZEN_STATUSES, GOVERNED_FIELDS, governed_values
from fmgov.registry.models import Deployment
from fmgov.registry.services._common import _ensure_owner, _unknown_fields
from fmgov.registry.services.deployments import DEPLOYMENT_FIELDS, _save_new, _transition

__all__ = ["OPEN_REVISION_STATUSES", "deployment_revision_create", "revision_go_live", "open_revision"]

#: A revision still on its way: only one at a time per deployment, so two approved changes never race.
OPEN_REVISION_STATUSES = (DeploymentStatus.PROPOSED, DeploymentStatus.APPROVED)
SYSTEM = "fmgov.registry.revisions"


def open_revision(deployment: Deployment) -> Deployment | None:
    """The revision of this deployment still proposed or approved, if any."""
    return deployment.revisions.filter(status__in=OPEN_REVISION_STATUSES).order_by("pk").first()


def _revised_fields(current: Deployment, changes: dict[str, Any]) -> dict[str, Any]:
    """The current description with the changes; naming one target clears the other unless both are given."""
    fields = {name: getattr(current, name) for name in DEPLOYMENT_FIELDS}
    if "foundation_model" in changes and "adaptation" not in changes and changes["foundation_model"] is not None:
        fields["adaptation"] = None
    if "adaptation" in changes and "foundation_model" not in changes and changes["adaptation"] is not None:
        fields["foundation_model"] = None
    fields.update(changes)
    return fields


@transaction.atomic
def deployment_revision_create(*, deployment: Deployment, actor: Actor, **changes: Any) -> Deployment:
    """Propose a change of an approved or live deployment: a new proposed deployment that revises it.

    Validated like a new deployment (400 per field); it must change at least
    one governed field (the rest is edited directly) and needs its own review.
    """
    _unknown_fields(changes, DEPLOYMENT_FIELDS)
    current = Deployment.objects.select_for_update(of=("self",)).select_related("owner").get(pk=deployment.pk)
    _ensure_owner(actor, current)
    if current.status not in FROZEN_STATUSES:
        how = "edit it directly" if current.status == DeploymentStatus.PROPOSED else "propose a new deployment"
        raise Conflict(f"Deployment {current} is {current.status}: only an approved or live one is revised; {how}.")
    pending = open_revision(current)
    if pending is not None:
        raise Conflict(
            f"Deployment {current} already has an open revision, {pending} (#{pending.pk}): edit that one, "
            "or retire it before proposing another."
        )
    revision = Deployment(
        owner=current.owner, status=DeploymentStatus.PROPOSED, revises=current, **_revised_fields(current, changes)
    )
    before, governed = governed_values(current), set(GOVERNED_FIELDS)
    _save_new(revision, actor=actor, action="deployment.propose_revision", context={"revises": current.pk})
    if governed_values(revision) == before:
        raise InvalidInput(
            "A revision changes at least one governed field (target, endpoint, credential, environment or region); "
            "the name and the expected load are edited on the deployment itself.",
            field_errors={name: ["Unchanged from the deployment it revises."] for name in changes if name in governed}
            or {"endpoint": ["Give the governed fields to change."]},
        )
    return revision


@transaction.atomic
def revision_go_live(*, revision: Deployment, actor: Actor) -> Deployment:
    """Put an approved revision live and retire what it revises, handing its work over, all at once.

    Called by ``deployment_go_live`` once the revision's own approval is checked
    (its row locked). The new deployment goes live before the old one retires,
    so even inside the transaction one of them is always live.
    """
    replaced = Deployment.objects.select_for_update(of=("self",)).get(pk=revision.revises_id)
    if replaced.status == DeploymentStatus.RETIRED:
        successor = replaced.revisions.filter(went_live_at__isnull=False).exclude(pk=revision.pk).first()
        detail = f"replaced by {successor} (#{successor.pk})" if successor else "retired"
        raise Conflict(
            f"Deployment {replaced}, which this revision changes, is already {detail}: propose the change again "
            "as a revision of what runs now."
        )
    live = _transition(
        deployment=revision,
        to=DeploymentStatus.LIVE,
        action="deployment.go_live",
        actor=actor,
        extra={"revises": replaced.pk},
    )
    reason = f"Replaced by its revision {live} (#{live.pk})."
    handed_over = {"findings": findings_move_subject(source=replaced, target=live, reason=reason, actor=actor)}
    for name, handover in hooks.DEPLOYMENT_HANDOVERS.items():
        handed_over[name] = handover(replaced, live, actor)
    _transition(
        deployment=replaced,
        to=DeploymentStatus.RETIRED,
        action="deployment.retire",
        actor=actor,
        extra={"reason": reason, "revised_by": live.pk, "handed_over": handed_over},
    )
    return live
