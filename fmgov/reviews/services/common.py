"""Checks every reviews service shares: the transition table, the row lock, who may do what."""

from collections.abc import Collection

from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.reviews.choices import REVIEW_TRANSITIONS, ReviewState
from fmgov.reviews.models import RiskReview


def ensure_transition(review: RiskReview, target: str, *, doing: str) -> None:
    if target not in REVIEW_TRANSITIONS[review.state]:
        raise TransitionNotAllowed(
            f"Cannot {doing}: the review is {ReviewState(review.state).label.lower()}{_allowed_hint(review.state)}."
        )


def _allowed_hint(state: str) -> str:
    allowed = sorted(ReviewState(s).label.lower() for s in REVIEW_TRANSITIONS[state])
    return f" and can only become {' or '.join(allowed)}" if allowed else " and that is final"


def _refuse_unknown(fields: Collection[str], allowed: Collection[str]) -> None:
    """An update names only the entity's declared writable fields (a 400 per stray field, not a silent setattr)."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise InvalidInput(
            f"Unknown field(s): {', '.join(unknown)}.", field_errors={k: ["Not a writable field."] for k in unknown}
        )


def _lock(review: RiskReview) -> RiskReview:
    return RiskReview.objects.select_for_update(of=("self",)).select_related("deployment", "policy").get(pk=review.pk)


def _require_admin(actor: Actor, system: str = "") -> None:
    """An admin, or a named system actor (a management command) when there is no user."""
    if actor is None and system:
        return
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may change the risk taxonomy and review policies.")


def _require_deployment_owner(deployment, actor: Actor, *, doing: str) -> None:
    """Only the deployment's owner (an engineer) or an admin acts on its governance record."""
    if has_role(actor, Role.ADMIN):
        return
    if not has_role(actor, Role.ENGINEER):
        raise NotAllowed(f"Only engineers and admins may {doing}.")
    if actor.pk != deployment.owner_id:
        raise NotAllowed(f"Only the owner of deployment {deployment} or an admin may {doing}.")


def _require_author(review: RiskReview, actor: Actor) -> None:
    """The deployment's owner or an admin writes and submits its reviews (not another engineer, not a past author)."""
    _require_deployment_owner(review.deployment, actor, doing="change or submit this risk review")


def _require_board_member(review: RiskReview, actor: Actor, *, doing: str) -> None:
    """A reviewer without a stake: not the author, submitter or owner of the deployment, its target or an ancestor."""
    from fmgov.reviews.selectors import review_stakeholder_ids

    if not has_role(actor, Role.REVIEWER):
        raise NotAllowed(f"Only reviewers may {doing}.")
    if actor.pk == review.created_by_id:
        raise NotAllowed(f"You wrote this review, so you cannot {doing} it yourself.")
    if actor.pk == review.submitted_by_id:
        raise NotAllowed(f"You submitted this review, so you cannot {doing} it yourself.")
    if actor.pk == review.deployment.owner_id:
        raise NotAllowed(f"You own this deployment, so you cannot {doing} its review yourself.")
    if actor.pk in review_stakeholder_ids(review):
        raise NotAllowed(
            f"You own the deployed model or adaptation or one of its ancestors, so you cannot {doing} this review."
        )


def _enqueue(task, *args) -> None:
    """``enqueue_on_commit`` looked up on the package, so patching ``services.enqueue_on_commit`` still works."""
    from fmgov.reviews import services

    services.enqueue_on_commit(task, *args)
