"""How an approval ends: revocation, expiry and the owner's expiry warning.

Revocation and expiry withdraw the deployment's approval once no other approved review covers it.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, DomainError, InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.reviews import tasks
from fmgov.reviews.choices import EXPIRY_NOTICE_DAYS, ReviewState
from fmgov.reviews.models import RiskReview
from fmgov.reviews.selectors import current_approved_review
from fmgov.reviews.services.common import _enqueue, _lock, ensure_transition

logger = logging.getLogger(__name__)


def _withdraw_deployment_approval_if_uncovered(
    review: RiskReview, actor: Actor, *, reason: str, system: str = ""
) -> None:
    """The deployment keeps its approval only while some other approved review still covers it."""
    if current_approved_review(review.deployment) is not None:
        return
    from fmgov.registry.services import deployment_withdraw_approval

    deployment_withdraw_approval(deployment=review.deployment, actor=actor, reason=reason, system=system)


@transaction.atomic
def review_revoke(
    *, review: RiskReview, actor: Actor = None, reason: str, system: str = "", finding=None
) -> RiskReview:
    """By an admin, or by the system (an evaluation's threshold breach names its finding)."""
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may revoke an approved review.")
    if actor is None and not system:
        raise NotAllowed("A revocation needs an admin or a named system actor.")
    if not (reason or "").strip():
        raise InvalidInput("Give a reason.", field_errors={"reason": ["Say why the approval is revoked."]})
    review = _lock(review)
    ensure_transition(review, ReviewState.REVOKED, doing="revoke the review")
    review.state = ReviewState.REVOKED
    review.revoked_at = timezone.now()
    review.revoked_reason = reason.strip()
    review.save(update_fields=["state", "revoked_at", "revoked_reason", "updated_at"])
    audit_record(
        action="review.revoke",
        actor=actor,
        system=system,
        obj=review,
        changes={"state": [ReviewState.APPROVED, ReviewState.REVOKED], "revoked_reason": ["", review.revoked_reason]},
        context={"finding": getattr(finding, "pk", finding)} if finding is not None else None,
    )
    _withdraw_deployment_approval_if_uncovered(
        review, actor, reason=f"Risk review #{review.pk} revoked: {reason}", system=system
    )
    _enqueue(tasks.notify_submitter_decision, review.pk)
    return review


@transaction.atomic
def review_expire(
    *, review: RiskReview, as_of: datetime | None = None, system: str = "fmgov.reviews.tasks.expire_reviews"
) -> RiskReview:
    """Approved reviews past ``expires_at`` become expired; called daily by the beat task."""
    review = _lock(review)
    as_of = as_of or timezone.now()
    if review.state == ReviewState.APPROVED and review.expires_at and review.expires_at > as_of:
        raise Conflict(f"The review is valid until {review.expires_at:%Y-%m-%d}; it has not expired.")
    ensure_transition(review, ReviewState.EXPIRED, doing="expire the review")
    review.state = ReviewState.EXPIRED
    review.save(update_fields=["state", "updated_at"])
    audit_record(
        action="review.expire",
        system=system,
        obj=review,
        changes={"state": [ReviewState.APPROVED, ReviewState.EXPIRED]},
        context={"expires_at": review.expires_at},
    )
    _withdraw_deployment_approval_if_uncovered(review, None, reason=f"Risk review #{review.pk} expired.", system=system)
    return review


@transaction.atomic
def review_expiry_notice(*, review: RiskReview, system: str = "fmgov.reviews.tasks.expire_reviews") -> bool:
    """Mark and enqueue the owner's warning once per approval; False if already sent or no longer due."""
    review = _lock(review)
    if review.state != ReviewState.APPROVED or review.expiry_notice_sent_at is not None:
        return False
    review.expiry_notice_sent_at = timezone.now()
    review.save(update_fields=["expiry_notice_sent_at", "updated_at"])
    audit_record(
        action="review.expiry_notice",
        system=system,
        obj=review,
        changes={"expiry_notice_sent_at": [None, review.expiry_notice_sent_at]},
        context={"expires_at": review.expires_at, "owner": review.deployment.owner_id},
    )
    _enqueue(tasks.notify_owner_expiring, review.pk)
    return True


def reviews_expire_due(*, as_of: datetime | None = None) -> dict[str, int]:
    """Expire every approval past its validity and warn owners EXPIRY_NOTICE_DAYS ahead, one transaction each.

    One review's refusal (revoked meanwhile, say) does not stop the others; the next sweep sees the new state.
    """
    as_of = as_of or timezone.now()
    expired = warned = 0
    approved = RiskReview.objects.filter(state=ReviewState.APPROVED)
    for review in approved.filter(expires_at__lte=as_of).order_by("pk"):
        try:
            review_expire(review=review, as_of=as_of)
        except DomainError as exc:
            logger.info("risk review %s not expired: %s", review.pk, exc.message)
            continue
        expired += 1
    due = approved.filter(
        expires_at__gt=as_of,
        expires_at__lte=as_of + timedelta(days=EXPIRY_NOTICE_DAYS),
        expiry_notice_sent_at__isnull=True,
    )
    for review in due.order_by("pk"):
        warned += int(review_expiry_notice(review=review))
    return {"expired": expired, "warned": warned}
