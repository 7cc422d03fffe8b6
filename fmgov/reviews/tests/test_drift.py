"""The drift check: a raw edit behind a live approval is found, suspended, reported; old-scheme approvals hold."""

import pytest
from django.core.management import CommandError, call_command

from audits.models import AuditEvent
from fmgov.core.schedules import builtin_schedule
from fmgov.findings.choices import FindingSource
from fmgov.findings.models import Finding
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.services import deployment_go_live
from fmgov.reviews import tasks
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import SignOff
from fmgov.reviews.selectors import deployment_approval_blocker
from fmgov.reviews.services import approvals_verify
from fmgov.reviews.tests.factories import approve, raw_update, submitted_review

pytestmark = pytest.mark.django_db


def live_review(engineer, *reviewers):
    review = submitted_review(author=engineer)
    approve(review, *reviewers)
    deployment_go_live(deployment=review.deployment, actor=engineer)
    review.deployment.refresh_from_db()
    assert review.deployment.status == DeploymentStatus.LIVE
    return review


def assert_suspended_with_finding(review):
    deployment = review.deployment
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.SUSPENDED
    finding = Finding.objects.get(source=FindingSource.APPROVAL_DRIFT, subject_id=deployment.pk)
    assert finding.detail["review"] == review.pk and "hashes to" in finding.detail["reason"]
    drift = AuditEvent.objects.get(action="review.drift", object_id=str(review.pk))
    assert drift.actor_system == "fmgov.reviews.verify_approvals" and drift.context["deployment"] == deployment.pk
    withdrawal = AuditEvent.objects.filter(action="deployment.withdraw_approval", object_id=str(deployment.pk)).get()
    assert withdrawal.actor_system == "fmgov.reviews.verify_approvals"


def test_a_raw_sql_edit_of_a_live_endpoint_is_found_by_the_command(engineer, reviewer, other_reviewer, capsys):
    review = live_review(engineer, reviewer, other_reviewer)
    untouched = live_review(engineer, reviewer, other_reviewer)
    call_command("verify_approvals")
    assert "matches" in capsys.readouterr().out
    raw_update(review.deployment, endpoint_base_url="https://attacker.example.net/v1")
    with pytest.raises(CommandError, match="1 approval"):
        call_command("verify_approvals")
    out = capsys.readouterr().out
    assert f"deployment #{review.deployment.pk}" in out and f"risk review #{review.pk}" in out
    assert_suspended_with_finding(review)
    untouched.deployment.refresh_from_db()
    assert untouched.deployment.status == DeploymentStatus.LIVE
    assert "changed after it was approved" in deployment_approval_blocker(review.deployment)
    call_command("verify_approvals")  # suspended now: nothing left to report


def test_the_beat_task_finds_the_same_drift(engineer, reviewer, other_reviewer):
    review = live_review(engineer, reviewer, other_reviewer)
    raw_update(review.deployment, endpoint_model="some-other-model")
    assert tasks.verify_approvals.apply().get() == {"drifted": [review.deployment.pk]}
    assert_suspended_with_finding(review)
    schedule = builtin_schedule("Verify that approvals still bind what runs")
    assert schedule.task == tasks.verify_approvals.name


def test_an_approval_under_scheme_1_is_not_drift(engineer, reviewer, other_reviewer):
    review = live_review(engineer, reviewer, other_reviewer)
    # As migrated: the review and its sign-offs were made under scheme 1 and bound its hash.
    v1 = review_content_hash(review, scheme=1)
    assert v1 != review.content_hash
    raw_update(review, hash_scheme=1, content_hash=v1)
    for sign_off in SignOff.objects.filter(review=review):
        raw_update(sign_off, hash_scheme=1, content_hash=v1)
    assert approvals_verify() == []
    assert deployment_approval_blocker(review.deployment) is None
    review.deployment.refresh_from_db()
    assert review.deployment.status == DeploymentStatus.LIVE
    # It still binds what scheme 1 covered.
    raw_update(review.deployment, region="us-east-1")
    (drift,) = approvals_verify()
    assert drift.review_id == review.pk and "scheme 1" in drift.reason


def test_a_forged_review_hash_is_caught_by_its_sign_offs(engineer, reviewer, other_reviewer):
    review = live_review(engineer, reviewer, other_reviewer)
    raw_update(review.deployment, endpoint_model="swapped")
    raw_update(review, content_hash=review_content_hash(review, scheme=review.hash_scheme))
    (drift,) = approvals_verify()
    assert "sign-off" in drift.reason


def test_a_live_deployment_without_an_approved_review_is_drift(engineer, reviewer, other_reviewer):
    review = live_review(engineer, reviewer, other_reviewer)
    raw_update(review, state="rejected")
    (drift,) = approvals_verify()
    assert drift.deployment_id == review.deployment_id and "without an approved risk review" in drift.reason
