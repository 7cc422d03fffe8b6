"""Defence in depth: the approval behind every approved or live deployment still binds what runs.

The services freeze what a review covers, so drift means something went past
them: a raw database edit, a bug, a restored backup. Each approved or live
deployment's newest approved review is recomputed under the hash scheme it was
signed under (an approval made before a scheme change is not drift), its
target digest compared and its approving sign-offs checked against the
review's hash. A mismatch withdraws the approval (live -> suspended,
approved -> proposed) as the system, opens a finding and records a
``review.drift`` event, all in one transaction per deployment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from audits.services import audit_record
from fmgov.findings.choices import FindingSource, Severity
from fmgov.findings.services import finding_open
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews.choices import Decision, ReviewState
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import RiskReview, SignOff

__all__ = ["SYSTEM", "Drift", "approval_drift", "approvals_verify"]

logger = logging.getLogger(__name__)

SYSTEM = "fmgov.reviews.verify_approvals"


@dataclass(frozen=True)
class Drift:
    deployment_id: int
    deployment: str
    review_id: int | None
    reason: str

    def __str__(self) -> str:
        review = f"risk review #{self.review_id}" if self.review_id else "no approved review"
        return f"deployment #{self.deployment_id} {self.deployment} ({review}): {self.reason}"


def _approving_review(deployment) -> RiskReview | None:
    return (
        RiskReview.objects.filter(deployment_id=deployment.pk, approved_at__isnull=False)
        .select_related("policy")
        .order_by("-approved_at", "-pk")
        .first()
    )


def approval_drift(deployment) -> tuple[RiskReview | None, str | None]:
    """(the review behind the deployment, why it no longer binds what runs, or None)."""
    review = _approving_review(deployment)
    if review is None or review.state != ReviewState.APPROVED:
        return review, f"it is {deployment.status} without an approved risk review"
    if deployment.target_digest != review.target_digest:
        return review, (
            f"the target's artifact digest is {deployment.target_digest or 'blank'}, "
            f"the review approved {review.target_digest or 'blank'}"
        )
    actual = review_content_hash(review, scheme=review.hash_scheme)
    if actual != review.content_hash:
        return review, (
            f"the content hashes to {actual} under scheme {review.hash_scheme}, the board signed {review.content_hash}"
        )
    signed = SignOff.objects.filter(
        review_id=review.pk, submission=review.submission, void=False, decision=Decision.APPROVE
    ).exclude(content_hash=review.content_hash)
    if signed.exists():
        return review, "an approving sign-off binds another content hash than the review"
    return review, None


@transaction.atomic
def _suspend_for_drift(deployment, review: RiskReview | None, reason: str) -> None:
    from fmgov.registry.services import deployment_withdraw_approval

    text = f"The approval no longer binds what runs: {reason}."
    audit_record(
        action="review.drift",
        system=SYSTEM,
        obj=review if review is not None else deployment,
        context={"deployment": deployment.pk, "status": deployment.status, "reason": reason},
    )
    deployment_withdraw_approval(deployment=deployment, actor=None, reason=text, system=SYSTEM)
    finding_open(
        source=FindingSource.APPROVAL_DRIFT,
        subject=deployment,
        severity=Severity.CRITICAL,
        title=f"Approval drift on {deployment}"[:200],
        detail={"review": getattr(review, "pk", None), "reason": reason},
        dedupe_key=f"approval-drift:{deployment.pk}:{getattr(review, 'pk', 0)}",
        system=SYSTEM,
    )


def approvals_verify() -> list[Drift]:
    """Check every approved and live deployment; suspend and report each that drifted (one transaction each)."""
    from fmgov.registry.models import Deployment

    drifted = []
    deployments = Deployment.objects.filter(status__in=[DeploymentStatus.APPROVED, DeploymentStatus.LIVE])
    for deployment in deployments.select_related("foundation_model", "adaptation").order_by("pk"):
        review, reason = approval_drift(deployment)
        if reason is None:
            continue
        logger.warning("approval drift on deployment %s: %s", deployment.pk, reason)
        _suspend_for_drift(deployment, review, reason)
        drifted.append(Drift(deployment.pk, str(deployment), getattr(review, "pk", None), reason))
    return drifted
