"""The review list's answer is built from plain rows (issue 18); it must read exactly as the serializer's.

Reviews in every shape the list shows: a draft nobody submitted, on an adaptation; a submitted review
with items, an approval with conditions, a rejection and a missing required group; one edited after
sign-off (void sign-offs of submission 1) and signed again in submission 2; an approved then revoked one.
The list, filtered and ordered as a client asks, is compared byte for byte with ``RiskReviewSerializer``.
"""

import json
import zoneinfo

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from fmgov.registry.tests.factories import AdaptationFactory
from fmgov.registry.tests.factories import DeploymentFactory as RegistryDeploymentFactory
from fmgov.reviews import services
from fmgov.reviews.api.serializers import RiskReviewSerializer
from fmgov.reviews.models import RiskReview
from fmgov.reviews.selectors import review_api_list, review_awaiting
from fmgov.reviews.tests.factories import (
    ReviewPolicyFactory,
    add_item,
    approve,
    join_group,
    ready_review,
    submitted_review,
)

pytestmark = pytest.mark.django_db


def _reviews(engineer, reviewer, other_reviewer, admin_user) -> None:
    adaptation = AdaptationFactory(owner=engineer)
    on_adaptation = RegistryDeploymentFactory(owner=engineer, adaptation=adaptation)
    draft = ready_review(author=engineer, deployment=on_adaptation)
    add_item(draft, engineer, evidence=[], mitigation="")

    join_group(other_reviewer, "safety")
    strict = ReviewPolicyFactory(required_groups=["safety", "legal"], quorum=3)
    judged = submitted_review(author=engineer, policy=strict)
    approve(judged, reviewer, conditions="Monitor refusals weekly.")
    services.sign_off_create(review=judged, actor=other_reviewer, decision="reject", comment="Not yet.")

    edited = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=2))
    approve(edited, reviewer)
    add_item(edited, engineer, likelihood=5, severity=5, residual_likelihood=1, residual_severity=1)
    edited = services.review_submit(review=RiskReview.objects.get(pk=edited.pk), actor=engineer)
    approve(edited, other_reviewer, conditions="Keep the filter on.")

    revoked = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=2))
    approve(revoked, reviewer, other_reviewer)
    services.review_revoke(review=RiskReview.objects.get(pk=revoked.pk), actor=admin_user, reason="Incident 7.")


def _json(data) -> str:
    return json.dumps(json.loads(JSONRenderer().render(data)))


@pytest.mark.parametrize(
    "query",
    [{}, {"ordering": "-expires_at"}, {"state": ["submitted", "draft"], "ordering": "state"}, {"search": "support"}],
)
def test_list_reads_as_the_serializer(query, engineer, reviewer, other_reviewer, admin_user, auditor, client_for):
    _reviews(engineer, reviewer, other_reviewer, admin_user)
    response = client_for(auditor).get("/api/v1/reviews/", query)
    assert response.status_code == 200
    results = response.json()["results"]
    ids = [row["id"] for row in results]
    assert results and len(ids) == response.json()["count"]
    by_id = {review.pk: review for review in review_api_list().filter(pk__in=ids)}
    expected = RiskReviewSerializer([by_id[pk] for pk in ids], many=True).data
    assert _json(results) == _json(expected)
    if not query:
        assert len(ids) == 4
        assert sorted(r["state"] for r in results) == ["draft", "rejected", "revoked", "submitted"]
        assert any(s["void"] for r in results for s in r["sign_offs"])
        assert any(r["approval"]["conditions"] and r["approval"]["missing_groups"] for r in results)
        assert any(r["submitted_by"] is None and r["target"]["kind"] == "adaptation" for r in results)


def test_awaiting_me_reads_as_the_serializer(engineer, reviewer, other_reviewer, admin_user, make_user, client_for):
    _reviews(engineer, reviewer, other_reviewer, admin_user)
    third = make_user("rosa", "reviewer")
    response = client_for(third).get("/api/v1/reviews/", {"state": "submitted", "awaiting": "me"})
    results = response.json()["results"]
    expected = RiskReviewSerializer(review_awaiting(third, review_api_list()), many=True).data
    assert results and _json(results) == _json(expected)


def test_times_in_another_zone_read_as_the_serializer(
    engineer, reviewer, other_reviewer, admin_user, auditor, client_for
):
    """Times are written in the current time zone, as DRF writes them (+01:00 here, not Z)."""
    _reviews(engineer, reviewer, other_reviewer, admin_user)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        results = client_for(auditor).get("/api/v1/reviews/").json()["results"]
        by_id = {review.pk: review for review in review_api_list()}
        expected = RiskReviewSerializer([by_id[row["id"]] for row in results], many=True).data
    assert "+01:00" in results[0]["created_at"] and _json(results) == _json(expected)
