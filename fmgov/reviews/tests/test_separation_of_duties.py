"""Separation of duties: who may write a deployment's review, and who may never sign it off.

Only the deployment's owner (or an admin) writes and submits its reviews; nobody who wrote, submitted or owns
the deployment, its target or any ancestor of the target signs it off; a declared conflict counts as an abstention.
"""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import NotAllowed
from fmgov.registry.tests.factories import AdaptationFactory
from fmgov.registry.tests.factories import DeploymentFactory as RegistryDeploymentFactory
from fmgov.reviews import services
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import SignOff
from fmgov.reviews.selectors import review_approval_status, review_awaiting, review_stakeholder_ids
from fmgov.reviews.tests.factories import (
    DeploymentFactory,
    ReviewPolicyFactory,
    add_item,
    approve,
    ready_review,
    submitted_review,
)

pytestmark = pytest.mark.django_db


def test_only_the_owner_or_an_admin_writes_a_deployments_review(engineer, other_engineer, admin_user, reviewer):
    deployment = DeploymentFactory(owner=engineer)
    with pytest.raises(NotAllowed, match="Only the owner of deployment"):
        services.review_create(deployment=deployment, actor=other_engineer)
    with pytest.raises(NotAllowed, match="Only engineers and admins"):
        services.review_create(deployment=deployment, actor=reviewer)
    review = ready_review(author=engineer, deployment=deployment)
    for action in (
        lambda: services.review_update(review=review, actor=other_engineer, summary="Mine now."),
        lambda: add_item(review, other_engineer),
        lambda: services.review_item_delete(item=review.items.first(), actor=other_engineer),
        lambda: services.review_submit(review=review, actor=other_engineer),
    ):
        with pytest.raises(NotAllowed, match="Only the owner of deployment"):
            action()
    review.refresh_from_db()
    assert review.state == ReviewState.DRAFT and review.items.count() == 1
    services.review_update(review=review, actor=admin_user, summary="An admin may.")
    services.review_submit(review=review, actor=admin_user)


def test_the_author_reviewer_cannot_bring_the_review_to_approval(make_user, reviewer):
    """An admin who also reviews writes a review of an engineer's deployment: their own vote never counts."""
    owner = make_user("erin", "engineer")
    author = make_user("dana", "admin", "reviewer")
    review = submitted_review(
        author=author, deployment=DeploymentFactory(owner=owner), policy=ReviewPolicyFactory(quorum=1)
    )
    with pytest.raises(NotAllowed, match="You wrote this review"):
        services.sign_off_create(review=review, actor=author, decision="approve")
    assert review not in review_awaiting(author) and review in review_awaiting(reviewer)
    approve(review, reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    assert list(review.sign_offs.values_list("reviewer__username", flat=True)) == [reviewer.username]


def test_the_owner_of_an_ancestor_adaptation_cannot_sign_off(make_user, engineer, reviewer):
    upstream = make_user("olga", "engineer", "reviewer")
    base = AdaptationFactory(owner=upstream)
    mine = AdaptationFactory(owner=engineer, derived_from_adaptations=[base.pk])
    deployment = RegistryDeploymentFactory(owner=engineer, adaptation=mine)
    review = submitted_review(author=engineer, deployment=deployment, policy=ReviewPolicyFactory(quorum=1))
    assert upstream.pk in review_stakeholder_ids(review)
    with pytest.raises(NotAllowed, match="own the deployed model or adaptation or one of its ancestors"):
        services.sign_off_create(review=review, actor=upstream, decision="approve")
    root_owner = base.parent_edges.get().parent_model.owner
    assert root_owner.pk in review_stakeholder_ids(review)
    assert reviewer.pk not in review_stakeholder_ids(review)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED and not SignOff.objects.exists()


def test_a_declared_conflict_counts_as_an_abstention(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=1))
    sign_off = services.sign_off_create(
        review=review,
        actor=reviewer,
        decision="approve",
        conditions="Re-run monthly.",
        conflict_of_interest="I advise the vendor.",
    )
    assert (sign_off.decision, sign_off.conditions, sign_off.conflict_of_interest) == (
        "abstain",
        "",
        "I advise the vendor.",
    )
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED and review_approval_status(review)["approvals"] == 0
    event = AuditEvent.objects.get(action="signoff.abstain")
    assert event.context == {"requested_decision": "approve"}
    assert event.changes["conflict_of_interest"] == [None, "I advise the vendor."]
    # A reject with a declared conflict does not reject either.
    services.sign_off_create(
        review=review, actor=other_reviewer, decision="reject", conflict_of_interest="Ex-employee."
    )
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED


def test_conflict_through_the_api_and_the_page(engineer, reviewer, other_reviewer, client_for, client):
    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=1))
    response = client_for(reviewer).post(
        f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "approve", "conflict_of_interest": "My team built it."}
    )
    assert response.status_code == 201
    assert response.json()["decision"] == "abstain" and response.json()["conflict_of_interest"] == "My team built it."
    client.force_login(other_reviewer)
    response = client.post(
        f"/reviews/{review.pk}/sign-off/", {"decision": "approve", "conflict_of_interest": "Shareholder."}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert SignOff.objects.get(reviewer=other_reviewer).decision == "abstain"
