"""The review workflow through its services: states, quorum, voids, expiry, revocation, atomicity."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import services
from fmgov.reviews.choices import REVIEW_TRANSITIONS, ReviewState
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import ImmutableSignOff, ReviewPolicy, RiskCategory, RiskReview, SignOff
from fmgov.reviews.selectors import (
    current_approved_review,
    deployment_approval_blocker,
    review_approval_status,
    review_awaiting,
    review_heat_map,
)
from fmgov.reviews.tests.factories import (
    DeploymentFactory,
    ReviewPolicyFactory,
    add_item,
    approve,
    join_group,
    ready_review,
    submitted_review,
)

pytestmark = pytest.mark.django_db


def actions_for(obj) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_taxonomy_and_default_policy_are_seeded():
    slugs = set(RiskCategory.objects.values_list("slug", flat=True))
    assert {
        "harmful-content",
        "bias",
        "environmental",
        "concentration-of-power",
        "security-interpretability",
        "privacy",
        "intellectual-property",
        "reliability",
    } <= slugs
    bias = RiskCategory.objects.get(slug="bias")
    assert "MEASURE 2.11" in bias.nist_ai_rmf and "Art. 10" in bias.eu_ai_act
    default = ReviewPolicy.objects.get(is_default=True)
    assert default.quorum == 2 and default.validity_days == 365
    assert {c.slug for c in default.required_categories.all()} == {
        "harmful-content",
        "bias",
        "security-interpretability",
        "reliability",
    }


def test_transition_table_is_closed():
    for state, targets in REVIEW_TRANSITIONS.items():
        assert state in ReviewState.values and targets <= set(ReviewState.values)
    assert REVIEW_TRANSITIONS[ReviewState.REJECTED] == set()


def test_submit_then_quorum_approves_review_and_deployment(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    assert review.state == ReviewState.SUBMITTED and review.submission == 1
    assert review.content_hash == review_content_hash(review) and len(review.content_hash) == 64
    assert review.target_digest == review.deployment.target_digest
    first = approve(review, reviewer)[0]
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert review_approval_status(review) == {"approvals": 1, "quorum": 2, "missing_groups": [], "met": False}
    approve(review, other_reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    assert first.content_hash == review.content_hash
    assert review.expires_at == review.approved_at + timedelta(days=review.policy.validity_days)
    review.deployment.refresh_from_db()
    assert review.deployment.status == DeploymentStatus.APPROVED
    assert current_approved_review(review.deployment) == review
    assert deployment_approval_blocker(review.deployment) is None
    assert actions_for(review) == ["review.create", "review.submit", "review.approve"]
    assert AuditEvent.objects.filter(action="signoff.approve").count() == 2
    assert AuditEvent.objects.filter(action="deployment.approve", object_id=str(review.deployment.pk)).count() == 1


def test_submit_needs_every_required_category(engineer):
    policy = ReviewPolicyFactory()
    policy.required_categories.set(RiskCategory.objects.filter(slug__in=["privacy", "bias"]))
    review = ready_review(author=engineer, policy=policy, slugs=["bias"])
    with pytest.raises(Conflict, match="missing: Privacy"):
        services.review_submit(review=review, actor=engineer)
    empty = ready_review(author=engineer, deployment=DeploymentFactory(owner=engineer), slugs=[])
    with pytest.raises(Conflict, match="at least one risk item"):
        services.review_submit(review=empty, actor=engineer)
    assert RiskReview.objects.filter(state=ReviewState.SUBMITTED).count() == 0


def test_submitter_and_owner_cannot_sign_their_own_review(make_user, engineer):
    author = make_user("dana", "admin", "reviewer")
    owner = make_user("olga", "engineer", "reviewer")
    review = submitted_review(author=author, deployment=DeploymentFactory(owner=owner))
    with pytest.raises(NotAllowed, match="You wrote this review"):
        services.sign_off_create(review=review, actor=author, decision="approve")
    with pytest.raises(NotAllowed, match="You own this deployment"):
        services.sign_off_create(review=review, actor=owner, decision="approve")
    with pytest.raises(NotAllowed, match="Only reviewers"):
        services.sign_off_create(review=review, actor=engineer, decision="approve")
    assert not SignOff.objects.exists()
    assert review not in review_awaiting(author) and review not in review_awaiting(owner)


def test_one_sign_off_per_reviewer_per_submission(engineer, reviewer):
    review = submitted_review(author=engineer)
    services.sign_off_create(review=review, actor=reviewer, decision="abstain")
    assert review not in review_awaiting(reviewer)
    with pytest.raises(Conflict, match="already signed off"):
        services.sign_off_create(review=review, actor=reviewer, decision="approve")
    assert SignOff.objects.count() == 1


def test_required_groups_must_be_represented(engineer, reviewer, other_reviewer, make_user):
    join_group(make_user("noone", "auditor"), "security")
    policy = ReviewPolicyFactory(quorum=1, required_groups=["security"])
    review = submitted_review(author=engineer, policy=policy)
    approve(review, reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert review_approval_status(review)["missing_groups"] == ["security"]
    approve(review, join_group(other_reviewer, "security"))
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED


def test_a_reject_ends_the_review(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    approve(review, reviewer)
    services.sign_off_create(review=review, actor=other_reviewer, decision="reject", comment="No red-teaming.")
    review.refresh_from_db()
    assert review.state == ReviewState.REJECTED
    with pytest.raises(TransitionNotAllowed, match="Only a submitted review takes sign-offs"):
        services.sign_off_create(review=review, actor=reviewer, decision="approve")
    with pytest.raises(TransitionNotAllowed, match="rejected and that is final"):
        services.review_submit(review=review, actor=engineer)
    with pytest.raises(TransitionNotAllowed, match="start a new review"):
        add_item(review, engineer, "privacy")
    review.deployment.refresh_from_db()
    assert review.deployment.status == DeploymentStatus.PROPOSED
    assert "review.reject" in actions_for(review)
    vote = AuditEvent.objects.get(action="signoff.reject")
    assert vote.actor_username == "ravi" and vote.changes["comment"] == [None, "No red-teaming."]
    # A new review of the same deployment may start now that the old one is closed.
    assert services.review_create(deployment=review.deployment, actor=engineer).state == ReviewState.DRAFT


def test_only_one_open_review_per_deployment(engineer):
    review = ready_review(author=engineer)
    with pytest.raises(Conflict, match="already has an open review"):
        services.review_create(deployment=review.deployment, actor=engineer)


def test_editing_a_submitted_review_voids_its_sign_offs(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    (first,) = approve(review, reviewer)
    old_hash = review.content_hash
    item = review.items.get()
    services.review_item_update(item=item, actor=engineer, residual_likelihood=1)
    review.refresh_from_db()
    first.refresh_from_db()
    assert review.state == ReviewState.DRAFT
    assert first.void and first.voided_at and "edited after submission" in first.void_reason
    assert first.content_hash == old_hash
    assert AuditEvent.objects.filter(action="signoff.void", object_id=str(first.pk)).exists()
    assert actions_for(review)[-1] == "review.reopen"
    with pytest.raises(TransitionNotAllowed, match="draft"):
        services.sign_off_create(review=review, actor=other_reviewer, decision="approve")
    services.review_submit(review=review, actor=engineer)
    review.refresh_from_db()
    assert review.submission == 2 and review.content_hash != old_hash
    assert review_approval_status(review)["approvals"] == 0
    approve(review, reviewer, other_reviewer)  # the same reviewer signs the new submission
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    assert SignOff.objects.filter(review=review).count() == 3
    assert SignOff.objects.filter(review=review, void=True).count() == 1


def test_unchanged_edit_does_not_void(engineer, reviewer):
    review = submitted_review(author=engineer)
    approve(review, reviewer)
    item = review.items.get()
    services.review_item_update(item=item, actor=engineer, likelihood=item.likelihood)
    services.review_update(review=review, actor=engineer, title=review.title)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED and not SignOff.objects.filter(void=True).exists()


def test_request_changes_and_resubmit(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    with pytest.raises(InvalidInput):
        services.review_request_changes(review=review, actor=reviewer, comment="  ")
    services.review_request_changes(review=review, actor=reviewer, comment="Add a privacy item.")
    review.refresh_from_db()
    assert review.state == ReviewState.CHANGES_REQUESTED
    with pytest.raises(TransitionNotAllowed):
        services.review_request_changes(review=review, actor=other_reviewer, comment="again")
    add_item(review, engineer, "privacy", description="Prompts may contain customer names.")
    services.review_submit(review=review, actor=engineer)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED and review.submission == 2
    assert review.changes_requested_comment == ""
    assert "review.request_changes" in actions_for(review)


def test_only_authors_edit_and_submit(engineer, other_engineer, reviewer, admin_user):
    review = ready_review(author=engineer)
    with pytest.raises(NotAllowed, match="Only the owner of deployment"):
        services.review_submit(review=review, actor=other_engineer)
    with pytest.raises(NotAllowed, match="Only engineers and admins"):
        add_item(review, reviewer)
    services.review_update(review=review, actor=admin_user, summary="Admin fixed a typo.")


def test_item_validation(engineer):
    review = ready_review(author=engineer)
    with pytest.raises(InvalidInput) as exc:
        add_item(review, engineer, likelihood=2, residual_likelihood=3, severity=6)
    assert set(exc.value.field_errors) == {"severity", "residual_likelihood"}
    category = RiskCategory.objects.get(slug="privacy")
    category.retired = True
    category.save()
    with pytest.raises(InvalidInput, match="retired"):
        add_item(review, engineer, "privacy")
    with pytest.raises(InvalidInput):
        add_item(review, engineer, evidence="not a list")


def test_sign_offs_are_immutable(engineer, reviewer):
    review = submitted_review(author=engineer)
    sign_off = services.sign_off_create(review=review, actor=reviewer, decision="abstain")
    sign_off.comment = "rewritten"
    with pytest.raises(ImmutableSignOff):
        sign_off.save()
    with pytest.raises(ImmutableSignOff):
        sign_off.delete()


def test_exception_after_the_audit_insert_leaves_nothing(engineer, monkeypatch):
    review = ready_review(author=engineer)
    events = AuditEvent.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("broker exploded")

    monkeypatch.setattr(services, "enqueue_on_commit", boom)
    with pytest.raises(RuntimeError):
        services.review_submit(review=review, actor=engineer)
    review.refresh_from_db()
    assert review.state == ReviewState.DRAFT and review.content_hash == "" and review.submission == 0
    assert AuditEvent.objects.count() == events


def test_failed_deployment_approval_rolls_back_the_vote(engineer, reviewer, other_reviewer, monkeypatch):
    review = submitted_review(author=engineer)
    approve(review, reviewer)

    def refuse(**kwargs):
        raise TransitionNotAllowed("A retired deployment cannot become approved.")

    monkeypatch.setattr("fmgov.registry.services.deployment_approve", refuse)
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionNotAllowed):
        approve(review, other_reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    assert SignOff.objects.filter(review=review).count() == 1
    assert AuditEvent.objects.count() == events


def test_heat_map_is_derived(engineer):
    review = ready_review(author=engineer, slugs=["bias", "privacy"])
    add_item(review, engineer, "bias", likelihood=5, severity=5, residual_likelihood=1, residual_severity=2)
    grid = review_heat_map(review.items.all())
    assert sum(map(sum, grid["inherent"])) == 3
    assert grid["inherent"][4][4] == 1 and grid["inherent"][3][2] == 2
    assert grid["residual"][0][1] == 1 and grid["residual"][1][2] == 2


def test_policy_and_category_admin_services(admin_user, engineer):
    with pytest.raises(NotAllowed):
        services.review_policy_create(actor=engineer, name="x")
    with pytest.raises(InvalidInput, match="No such group: nobody"):
        services.review_policy_create(actor=admin_user, name="Strict", required_groups=["nobody"])
    policy = services.review_policy_create(actor=admin_user, name="Strict", quorum=3, is_default=True)
    assert ReviewPolicy.objects.get(is_default=True) == policy
    category = services.risk_category_create(actor=admin_user, slug="labour", name="Labour displacement")
    services.risk_category_update(category=category, actor=admin_user, retired=True)
    assert list(AuditEvent.objects.filter(object_type="reviews.riskcategory").values_list("action", flat=True)) == [
        "risk_category.create",
        "risk_category.retire",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_make_exactly_one_transition(make_user):
    """Two reviewers approve the same review at the same moment; the row lock lets one decide."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks across connections")
    engineer = make_user("erin", "engineer")
    board = [make_user(f"board{i}", "reviewer") for i in range(4)]
    for quorum, voters in ((2, board[:2]), (1, board[2:])):
        review = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=quorum))
        barrier = threading.Barrier(len(voters))
        outcomes: list[object] = []

        def vote(user, review=review, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                with transaction.atomic():
                    services.sign_off_create(review=review, actor=user, decision="approve")
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=vote, args=(u,)) for u in voters]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        review.refresh_from_db()
        assert review.state == ReviewState.APPROVED
        assert AuditEvent.objects.filter(action="review.approve", object_id=str(review.pk)).count() == 1
        deployment_events = AuditEvent.objects.filter(action="deployment.approve", object_id=str(review.deployment_id))
        assert deployment_events.count() == 1
        signed = SignOff.objects.filter(review=review).count()
        if quorum == 2:
            assert outcomes == ["ok", "ok"] and signed == 2
        else:  # the second vote finds the review already approved
            assert outcomes.count("ok") == 1 and signed == 1
            assert isinstance([o for o in outcomes if o != "ok"][0], TransitionNotAllowed)


def test_expiry_notice_is_sent_once(
    engineer, reviewer, other_reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    review.refresh_from_db()
    assert services.review_expiry_notice(review=review) is True
    assert services.review_expiry_notice(review=review) is False
    assert AuditEvent.objects.filter(action="review.expiry_notice").count() == 1
    review.refresh_from_db()
    assert review.expiry_notice_sent_at is not None


def test_retired_required_category_no_longer_blocks_submission(engineer, admin_user):
    policy = ReviewPolicyFactory()
    policy.required_categories.set(RiskCategory.objects.filter(slug__in=["privacy", "bias"]))
    review = ready_review(author=engineer, policy=policy, slugs=["bias"])
    services.risk_category_update(category=RiskCategory.objects.get(slug="privacy"), actor=admin_user, retired=True)
    assert services.review_submit(review=review, actor=engineer).state == ReviewState.SUBMITTED
    with pytest.raises(InvalidInput, match="exists"):
        services.risk_category_create(actor=admin_user, slug="new", name="Privacy")
