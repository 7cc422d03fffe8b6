"""Migration 0004: approvals recorded before the hash scheme existed are scheme 1 and keep their binding.

Runs the real migration back and forward on this session's test database (a transactional test).
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.services import deployment_go_live
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import RiskReview, SignOff
from fmgov.reviews.selectors import deployment_approval_blocker
from fmgov.reviews.services import approvals_verify
from fmgov.reviews.tests.factories import approve, raw_update, submitted_review

BEFORE = [("reviews", "0003_sign_off_conflict_of_interest")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_reviews_and_sign_offs_become_scheme_1_and_still_verify(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    deployment_go_live(deployment=review.deployment, actor=engineer)
    v1 = review_content_hash(review, scheme=1)
    # What a pre-0004 approval stored: the scheme-1 hash on the review and on every sign-off.
    raw_update(review, content_hash=v1)
    for sign_off in SignOff.objects.filter(review=review):
        raw_update(sign_off, content_hash=v1)
    _migrate(BEFORE)
    _migrate([("reviews", "0004_hash_scheme_and_environment_policy")])
    review = RiskReview.objects.get(pk=review.pk)
    assert review.hash_scheme == 1
    assert set(SignOff.objects.filter(review=review).values_list("hash_scheme", flat=True)) == {1}
    assert approvals_verify() == [] and deployment_approval_blocker(review.deployment) is None
    review.deployment.refresh_from_db()
    assert review.deployment.status == DeploymentStatus.LIVE
