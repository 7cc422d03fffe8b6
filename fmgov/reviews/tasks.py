"""Celery tasks: the daily expiry sweep and e-mail notifications.

Tasks take ids, load, and call a service or send mail through the e-mail
ledger, which sends each recipient one message per task message even when the
message is redelivered. Task names ending in ``notify_*`` route to the
notifications queue.
"""

import logging

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from fmgov.core.roles import Role
from fmgov.notifications.services import email_send_once
from fmgov.reviews.choices import Decision, ReviewState
from fmgov.reviews.models import RiskReview

__all__ = [
    "expire_reviews",
    "verify_approvals",
    "notify_reviewers_submitted",
    "notify_submitter_decision",
    "notify_owner_expiring",
]

logger = logging.getLogger(__name__)


def _review(review_id: int) -> RiskReview | None:
    review = (
        RiskReview.objects.select_related("deployment__owner", "submitted_by", "policy").filter(pk=review_id).first()
    )
    if review is None:
        logger.warning("risk review %s no longer exists; nothing to send", review_id)
    return review


def _label(review: RiskReview) -> str:
    return f"risk review #{review.pk} of {review.deployment}"


@shared_task(name="fmgov.reviews.tasks.expire_reviews")
def expire_reviews() -> dict[str, int]:
    """Daily: expire approvals past their validity; warn owners of approvals about to expire."""
    from fmgov.reviews.services import reviews_expire_due

    return reviews_expire_due()


@shared_task(name="fmgov.reviews.tasks.verify_approvals")
def verify_approvals() -> dict[str, list[int]]:
    """Hourly: recompute the hash behind every approved and live deployment; suspend what drifted."""
    from fmgov.reviews.services import approvals_verify

    return {"drifted": [drift.deployment_id for drift in approvals_verify()]}


@shared_task(bind=True, name="fmgov.reviews.tasks.notify_reviewers_submitted")
def notify_reviewers_submitted(self, review_id: int) -> int:
    """Every reviewer who may sign this review hears that it waits for them."""
    review = _review(review_id)
    if review is None or review.state != ReviewState.SUBMITTED:
        return 0
    from fmgov.reviews.selectors import review_stakeholder_ids

    excluded = review_stakeholder_ids(review)
    recipients = sorted(
        email
        for pk, email in get_user_model()
        .objects.filter(groups__name=Role.REVIEWER, is_active=True)
        .exclude(email="")
        .values_list("pk", "email")
        .distinct()
        if pk not in excluded
    )
    if not recipients:
        return 0
    submitter = review.submitted_by.username if review.submitted_by else "someone"
    body = (
        f"{submitter} submitted {_label(review)} under the policy {review.policy} "
        f"(submission {review.submission}). It needs {review.policy.quorum} approval(s)"
        + (f", including {', '.join(review.policy.required_groups)}" if review.policy.required_groups else "")
        + f".\n\nContent hash: {review.content_hash}\n"
    )
    subject = f"[fmgov] Review requested: {_label(review)}"
    # One message each, so reviewers do not see one another's addresses.
    return email_send_once(key=self.request.id, task_name=self.name, subject=subject, body=body, recipients=recipients)


@shared_task(bind=True, name="fmgov.reviews.tasks.notify_submitter_decision")
def notify_submitter_decision(self, review_id: int) -> int:
    """The submitter hears the board's decision (approved, rejected, changes requested, revoked)."""
    review = _review(review_id)
    if review is None or review.submitted_by is None or not review.submitted_by.email:
        return 0
    state = review.get_state_display().lower()
    lines = [f"{_label(review)} is now {state}."]
    if review.state == ReviewState.APPROVED:
        lines.append(f"The approval is valid until {review.expires_at:%Y-%m-%d}.")
    if review.state == ReviewState.CHANGES_REQUESTED:
        lines.append(f"Changes requested: {review.changes_requested_comment}")
    if review.state == ReviewState.REVOKED:
        lines.append(f"Reason: {review.revoked_reason}")
    for sign_off in review.sign_offs.filter(submission=review.submission, void=False).select_related("reviewer"):
        entry = f"- {sign_off.reviewer.username}: {sign_off.get_decision_display().lower()}"
        if sign_off.comment:
            entry += f" — {sign_off.comment}"
        if sign_off.decision == Decision.APPROVE and sign_off.conditions:
            entry += f"\n  Conditions: {sign_off.conditions}"
        lines.append(entry)
    return email_send_once(
        key=self.request.id,
        task_name=self.name,
        subject=f"[fmgov] {_label(review)}: {state}",
        body="\n".join(lines),
        recipients=[review.submitted_by.email],
    )


@shared_task(bind=True, name="fmgov.reviews.tasks.notify_owner_expiring")
def notify_owner_expiring(self, review_id: int) -> int:
    """The deployment owner hears, ahead of time, that the approval will lapse."""
    review = _review(review_id)
    if review is None or review.state != ReviewState.APPROVED or not review.deployment.owner.email:
        return 0
    days = max((review.expires_at - timezone.now()).days, 0)
    body = (
        f"The approval of {_label(review)} expires on {review.expires_at:%Y-%m-%d} (in {days} day(s)). "
        "After that the deployment loses its approval; start a new review in time.\n"
    )
    return email_send_once(
        key=self.request.id,
        task_name=self.name,
        subject=f"[fmgov] Approval expiring: {_label(review)}",
        body=body,
        recipients=[review.deployment.owner.email],
    )
