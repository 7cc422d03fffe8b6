"""The governance workflow's own services produce the review, sign-off and deployment events (no stand-ins)."""

import importlib
import json

import pytest
from django.apps import apps

from fmgov.registry.services import deployment_go_live, deployment_suspend
from fmgov.reviews.choices import Decision
from fmgov.reviews.services import sign_off_create
from fmgov.reviews.tests.factories import approve, submitted_review
from fmgov.webhooks.choices import EVENT_FROM_ACTION
from fmgov.webhooks.signing import verify_signature
from fmgov.webhooks.tests.factories import deliver_due, make_endpoint
from fmgov.webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _taxonomy(db):
    importlib.import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy").seed(apps, None)


def test_every_sign_off_decision_is_a_signoff_recorded_event():
    assert {EVENT_FROM_ACTION.get(f"signoff.{d}") for d in Decision.values} == {"signoff.recorded"}


def test_submit_sign_offs_approval_go_live_and_suspension_each_reach_the_receiver(
    admin_user, engineer, reviewer, other_reviewer, make_user
):
    with Receiver() as receiver:
        _, secret = make_endpoint(admin_user, receiver.url(), ["*"])
        review = submitted_review(author=engineer)
        sign_off_create(review=review, actor=make_user("abe", "reviewer"), decision="abstain", comment="conflicted")
        approve(review, reviewer, other_reviewer)
        deployment = review.deployment
        deployment.refresh_from_db()
        deployment_go_live(deployment=deployment, actor=engineer)
        deployment_suspend(deployment=deployment, actor=engineer, reason="incident")
        deliver_due()
    seen = []
    for request in receiver.received:
        headers = request.headers
        assert verify_signature(secret, headers["X-Fmgov-Timestamp"], request.body, headers["X-Fmgov-Signature"])
        body = json.loads(request.body)
        seen.append((headers["X-Fmgov-Event"], body["audit_event"]["action"]))
    assert seen == [
        ("review.submitted", "review.submit"),
        ("signoff.recorded", "signoff.abstain"),
        ("signoff.recorded", "signoff.approve"),
        ("signoff.recorded", "signoff.approve"),
        ("review.approved", "review.approve"),
        ("deployment.live", "deployment.go_live"),
        ("deployment.suspended", "deployment.suspend"),
    ]
