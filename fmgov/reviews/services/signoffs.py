"""Submission and the board's decision: sign-offs, quorum approval or rejection, requests for changes."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import hooks, tasks
from fmgov.reviews.choices import HASH_SCHEME_CURRENT, Decision, ReviewState
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import RiskReview, SignOff
from fmgov.reviews.selectors import review_approval_status, reviewer_shortfall
from fmgov.reviews.services.common import _enqueue, _lock, _require_author, _require_board_member, ensure_transition
from fmgov.reviews.services.policy_rules import ensure_policy_allowed


def _submission_blockers(review: RiskReview) -> list[str]:
    return list(hooks.review_submission_blockers(review))


@transaction.atomic
def review_submit(*, review: RiskReview, actor: Actor) -> RiskReview:
    review = _lock(review)
    _require_author(review, actor)
    ensure_transition(review, ReviewState.SUBMITTED, doing="submit the review")
    present = set(review.items.values_list("category_id", flat=True))
    if not present:
        raise Conflict("Add at least one risk item before submitting the review.")
    # A retired category takes no new items, so it cannot be required any more.
    missing = [c.name for c in review.policy.required_categories.all() if not c.retired and c.pk not in present]
    if missing:
        raise Conflict(
            f"The policy {review.policy} needs an item for every required category; missing: {', '.join(missing)}."
        )
    ensure_policy_allowed(review.deployment, review.policy)
    shortfall = reviewer_shortfall(review, submitter=actor)
    if shortfall:
        raise Conflict(f"The review cannot be submitted: {shortfall}")
    blockers = _submission_blockers(review)
    if blockers:
        raise Conflict("The review cannot be submitted yet: " + "; ".join(blockers))
    before = snapshot(
        review, ["state", "submission", "content_hash", "hash_scheme", "target_digest", "submitted_by", "submitted_at"]
    )
    review.state = ReviewState.SUBMITTED
    review.submission += 1
    review.hash_scheme = HASH_SCHEME_CURRENT
    review.content_hash = review_content_hash(review, scheme=review.hash_scheme)
    review.target_digest = review.deployment.target_digest
    review.submitted_by = actor
    review.submitted_at = timezone.now()
    review.changes_requested_comment = ""
    review.save()
    after = snapshot(review, list(before))
    audit_record(action="review.submit", actor=actor, obj=review, changes=diff(before, after))
    _enqueue(tasks.notify_reviewers_submitted, review.pk)
    return review


@transaction.atomic
def sign_off_create(
    *,
    review: RiskReview,
    actor: Actor,
    decision: str,
    comment: str = "",
    conditions: str = "",
    conflict_of_interest: str = "",
) -> SignOff:
    """Record one reviewer's vote; a reject rejects, the quorum with the required groups approves.

    A declared conflict of interest is recorded as an abstention, whatever the decision asked for.
    """
    review = _lock(review)
    _require_board_member(review, actor, doing="sign off")
    if review.state != ReviewState.SUBMITTED:
        raise TransitionNotAllowed(
            f"Only a submitted review takes sign-offs; this one is {review.get_state_display().lower()}."
        )
    if decision not in Decision.values:
        raise InvalidInput("Unknown decision.", field_errors={"decision": [f"Choose {', '.join(Decision.values)}."]})
    if conditions.strip() and decision != Decision.APPROVE:
        raise InvalidInput(
            "Conditions go with an approval.",
            field_errors={"conditions": ["Only an approval carries conditions; put your reasons in the comment."]},
        )
    conflict_of_interest = (conflict_of_interest or "").strip()
    requested = decision
    if conflict_of_interest:
        decision, conditions = Decision.ABSTAIN, ""
    if review.sign_offs.filter(reviewer=actor, submission=review.submission).exists():
        raise Conflict("You have already signed off this submission of the review.")
    if review_content_hash(review, scheme=review.hash_scheme) != review.content_hash:
        raise Conflict("The review's content changed since it was submitted; it must be submitted again.")
    sign_off = SignOff.objects.create(
        review=review,
        reviewer=actor,
        submission=review.submission,
        decision=decision,
        comment=comment,
        conditions=conditions.strip(),
        conflict_of_interest=conflict_of_interest,
        content_hash=review.content_hash,
        hash_scheme=review.hash_scheme,
    )
    audit_record(
        action=f"signoff.{decision}",
        actor=actor,
        obj=sign_off,
        changes=created(
            {
                "review": review.pk,
                "submission": review.submission,
                "decision": decision,
                "content_hash": review.content_hash,
                "hash_scheme": review.hash_scheme,
                "comment": comment,
                "conditions": sign_off.conditions,
                "conflict_of_interest": conflict_of_interest,
            }
        ),
        context={"requested_decision": requested} if conflict_of_interest else None,
    )
    if decision == Decision.REJECT:
        _decide(review, actor, ReviewState.REJECTED)
    elif decision == Decision.APPROVE and review_approval_status(review)["met"]:
        _decide(review, actor, ReviewState.APPROVED)
    return sign_off


def _decide(review: RiskReview, actor: Actor, state: str) -> None:
    ensure_transition(review, state, doing=f"mark the review {ReviewState(state).label.lower()}")
    now = timezone.now()
    fields = ["state", "decided_at", "updated_at"]
    previous_expiry = review.expires_at
    review.state, review.decided_at = state, now
    if state == ReviewState.APPROVED:
        review.approved_at = now
        review.expires_at = now + timedelta(days=review.policy.validity_days)
        review.expiry_notice_sent_at = None
        fields += ["approved_at", "expires_at", "expiry_notice_sent_at"]
    review.save(update_fields=fields)
    changes = {"state": [ReviewState.SUBMITTED, state]}
    if state == ReviewState.APPROVED:
        changes["expires_at"] = [previous_expiry, review.expires_at]
    audit_record(
        action=f"review.{'approve' if state == ReviewState.APPROVED else 'reject'}",
        actor=actor,
        obj=review,
        changes=changes,
        context={"submission": review.submission},
    )
    if state == ReviewState.APPROVED and review.deployment.status not in (
        DeploymentStatus.APPROVED,
        DeploymentStatus.LIVE,
    ):
        from fmgov.registry.services import deployment_approve

        deployment_approve(deployment=review.deployment, actor=actor, review=review)
    _enqueue(tasks.notify_submitter_decision, review.pk)


@transaction.atomic
def review_request_changes(*, review: RiskReview, actor: Actor, comment: str) -> RiskReview:
    review = _lock(review)
    _require_board_member(review, actor, doing="request changes to")
    ensure_transition(review, ReviewState.CHANGES_REQUESTED, doing="request changes")
    if not (comment or "").strip():
        raise InvalidInput("Say what must change.", field_errors={"comment": ["Say what must change."]})
    previous_comment = review.changes_requested_comment
    review.state = ReviewState.CHANGES_REQUESTED
    review.decided_at = timezone.now()
    review.changes_requested_comment = comment.strip()
    review.save(update_fields=["state", "decided_at", "changes_requested_comment", "updated_at"])
    audit_record(
        action="review.request_changes",
        actor=actor,
        obj=review,
        changes={
            "state": [ReviewState.SUBMITTED, review.state],
            "changes_requested_comment": [previous_comment, review.changes_requested_comment],
        },
        context={"submission": review.submission},
    )
    _enqueue(tasks.notify_submitter_decision, review.pk)
    return review
