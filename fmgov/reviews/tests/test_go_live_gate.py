"""The go-live gate as reviews answer it: expiry, revocation, drift of what was approved, the newest approval."""

from datetime import timedelta

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, NotAllowed, TransitionNotAllowed
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.services import deployment_go_live
from fmgov.reviews import services
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.selectors import (
    current_approved_review,
    deployment_approval_blocker,
)
from fmgov.reviews.tests.factories import (
    DeploymentFactory,
    approve,
    digest,
    raw_update,
    ready_review,
    submitted_review,
)

pytestmark = pytest.mark.django_db


def test_expiry_blocks_go_live(engineer, reviewer, other_reviewer, monkeypatch):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    review.refresh_from_db()
    with pytest.raises(Conflict, match="has not expired"):
        services.review_expire(review=review)
    later = review.expires_at + timedelta(minutes=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert "expired" in deployment_approval_blocker(review.deployment)
    services.review_expire(review=review)
    review.refresh_from_db()
    review.deployment.refresh_from_db()
    assert review.state == ReviewState.EXPIRED
    assert review.deployment.status == DeploymentStatus.PROPOSED
    event = AuditEvent.objects.get(action="review.expire")
    assert event.actor_system == "fmgov.reviews.tasks.expire_reviews" and event.actor is None
    with pytest.raises(TransitionNotAllowed, match="expired"):
        deployment_go_live(deployment=review.deployment, actor=engineer)


def test_revocation_blocks_go_live(engineer, reviewer, other_reviewer, admin_user):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    deployment = deployment_go_live(deployment=review.deployment, actor=engineer)
    assert deployment.status == DeploymentStatus.LIVE
    with pytest.raises(NotAllowed, match="Only admins"):
        services.review_revoke(review=review, actor=reviewer, reason="no")
    services.review_revoke(review=review, actor=admin_user, reason="Base model withdrawn by its provider.")
    review.refresh_from_db()
    deployment.refresh_from_db()
    assert review.state == ReviewState.REVOKED and review.revoked_at
    assert deployment.status == DeploymentStatus.SUSPENDED
    assert deployment_approval_blocker(deployment) == (
        f"The approval of risk review #{review.pk} was revoked: Base model withdrawn by its provider."
    )
    with pytest.raises(TransitionNotAllowed, match="revoked"):
        deployment_go_live(deployment=deployment, actor=engineer)
    with pytest.raises(TransitionNotAllowed, match="revoked and that is final"):
        services.review_revoke(review=review, actor=admin_user, reason="again")


def test_system_revocation_records_the_finding(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    services.review_revoke(review=review, reason="Toxicity above threshold", system="evaluations", finding=42)
    event = AuditEvent.objects.get(action="review.revoke")
    assert event.context["finding"] == 42 and event.actor_system == "evaluations"
    with pytest.raises(NotAllowed):
        services.review_revoke(review=ready_review(author=engineer), reason="x")


def test_changed_digest_or_content_blocks_go_live(engineer, reviewer, other_reviewer, admin_user):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    model = review.deployment.foundation_model
    original = model.artifact_digest
    model.artifact_digest = digest("retrained weights")
    model.save()
    review.deployment.refresh_from_db()
    assert "artifact digest" in deployment_approval_blocker(review.deployment)
    model.artifact_digest = original
    model.save()
    assert deployment_approval_blocker(review.deployment) is None
    services.review_policy_update(policy=review.policy, actor=admin_user, quorum=1)
    assert "changed after it was approved" in deployment_approval_blocker(review.deployment)


def test_no_review_blocks_go_live(engineer):
    deployment = DeploymentFactory(owner=engineer)
    assert deployment_approval_blocker(deployment) == f"Deployment {deployment} has no approved risk review."


def test_only_the_newest_approval_counts(engineer, reviewer, other_reviewer, admin_user):
    first = submitted_review(author=engineer)
    approve(first, reviewer, other_reviewer)
    deployment = first.deployment
    renewal = submitted_review(author=engineer, deployment=deployment)
    approve(renewal, reviewer, other_reviewer)
    renewal.refresh_from_db()
    assert current_approved_review(deployment) == renewal
    # Revoking an older approval while the renewal holds leaves the deployment approved.
    services.review_revoke(review=first, actor=admin_user, reason="Superseded evidence.")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.APPROVED and deployment_approval_blocker(deployment) is None
    # Revoking the renewal too withdraws the deployment's approval.
    services.review_revoke(review=renewal, actor=admin_user, reason="Threshold breach.")
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.PROPOSED
    assert current_approved_review(deployment) is None


def test_revoking_the_newest_does_not_fall_back_to_an_older_approval(engineer, reviewer, other_reviewer, admin_user):
    older = submitted_review(author=engineer)
    approve(older, reviewer, other_reviewer)
    deployment = older.deployment
    newer = submitted_review(author=engineer, deployment=deployment)
    approve(newer, reviewer, other_reviewer)
    services.review_revoke(review=newer, actor=admin_user, reason="Base model recalled.")
    older.refresh_from_db()
    deployment.refresh_from_db()
    assert older.state == ReviewState.APPROVED  # still on record until the sweep expires it
    assert current_approved_review(deployment) is None
    assert deployment.status == DeploymentStatus.PROPOSED
    assert "was revoked: Base model recalled." in deployment_approval_blocker(deployment)


def test_endpoint_change_needs_a_new_review_but_a_rename_does_not(engineer, reviewer, other_reviewer):
    from fmgov.registry.services import deployment_update

    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    deployment_update(deployment=review.deployment, actor=engineer, name="support-assistant-eu")
    assert deployment_approval_blocker(review.deployment) is None
    with pytest.raises(Conflict, match="Propose a change"):
        deployment_update(deployment=review.deployment, actor=engineer, endpoint_model="another-model-v2")
    assert deployment_approval_blocker(review.deployment) is None
    # Past the services (a raw edit), the recomputed hash still catches it.
    raw_update(review.deployment, endpoint_model="another-model-v2")
    assert "changed after it was approved" in deployment_approval_blocker(review.deployment)
