"""The reviews demo: every state, over the registry's demo deployments, idempotent."""

import io

import pytest
from django.utils import timezone

from audits.selectors import verify_chain
from fmgov.accounts import demo as accounts_demo
from fmgov.registry import demo as registry_demo
from fmgov.registry.models import Deployment
from fmgov.reviews import demo
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import RiskReview
from fmgov.reviews.selectors import deployment_approval_blocker

pytestmark = pytest.mark.django_db


def test_demo_skips_without_deployments():
    out = io.StringIO()
    demo.seed(out)
    assert "skipped" in out.getvalue() and not RiskReview.objects.exists()


def test_demo_covers_every_state_and_is_idempotent():
    for module in (accounts_demo, registry_demo, demo):
        module.seed(io.StringIO())
    assert set(RiskReview.objects.values_list("state", flat=True)) == set(ReviewState.values)
    assert all(r.items.count() >= 4 for r in RiskReview.objects.all())
    for deployment in Deployment.objects.filter(status__in=["live", "approved"]):
        assert deployment_approval_blocker(deployment) is None, deployment.name
    assert deployment_approval_blocker(Deployment.objects.get(name="policy-assistant-pilot")).startswith(
        "The approval of risk review"
    )
    # The expired approval really is past its expiry date, and was approved before it; the valid ones are not.
    now = timezone.now()
    [expired] = RiskReview.objects.filter(state=ReviewState.EXPIRED)
    assert expired.approved_at < expired.expires_at < now
    assert all(review.expires_at > now for review in RiskReview.objects.filter(state=ReviewState.APPROVED))
    count = RiskReview.objects.count()
    out = io.StringIO()
    demo.seed(out)
    assert RiskReview.objects.count() == count and "already present" in out.getvalue()
    assert verify_chain().ok
