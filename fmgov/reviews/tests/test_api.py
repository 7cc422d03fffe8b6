"""The review workflow through the API, with real users in each role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audits.models import AuditEvent
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import services
from fmgov.reviews.models import ReviewPolicy, RiskCategory, RiskReview, SignOff
from fmgov.reviews.tests.factories import DeploymentFactory, ReviewPolicyFactory, join_group, submitted_review

pytestmark = pytest.mark.django_db

ITEM = {
    "description": "Generates plausible but false statements about product safety.",
    "likelihood": 4,
    "severity": 4,
    "mitigation": "Answers restricted to retrieved documents; refusal when retrieval is empty.",
    "residual_likelihood": 2,
    "residual_severity": 3,
    "evidence": ["https://evals.example.org/runs/118", "Manual review of 500 transcripts, 2026-11-02"],
}


@pytest.fixture
def security_reviewer(make_user):
    return join_group(make_user("sam", "reviewer"), "security")


def test_whole_workflow_through_the_api(engineer, reviewer, security_reviewer, auditor, admin_user, client_for):
    # An admin sets a policy: two approvals, one of them from security.
    admin = client_for(admin_user)
    response = admin.post(
        "/api/v1/review-policies/",
        {
            "name": "Production launch",
            "quorum": 2,
            "required_groups": ["security"],
            "validity_days": 180,
            "required_categories": ["reliability", "security-interpretability"],
        },
    )
    assert response.status_code == 201, response.json()
    policy_id = response.json()["id"]

    # The engineer writes the review.
    deployment = DeploymentFactory(owner=engineer)
    eng = client_for(engineer)
    response = eng.post("/api/v1/reviews/", {"deployment": deployment.pk, "policy": policy_id, "title": "Launch"})
    assert response.status_code == 201, response.json()
    review_id = response.json()["id"]
    assert response.json()["state"] == "draft" and response.json()["target"]["kind"] == "foundation_model"
    items = f"/api/v1/reviews/{review_id}/items/"
    assert eng.post(items, {**ITEM, "category": "reliability"}).status_code == 201
    response = eng.post(f"/api/v1/reviews/{review_id}/submit/")
    assert response.status_code == 409
    assert "missing: Security and interpretability" in response.json()["detail"]
    assert eng.post(items, {**ITEM, "category": "security-interpretability"}).status_code == 201
    response = eng.post(f"/api/v1/reviews/{review_id}/submit/")
    assert response.status_code == 200 and response.json()["state"] == "submitted"
    assert len(response.json()["content_hash"]) == 64

    # Reviewers find it waiting for them; the author does not.
    rita, sam = client_for(reviewer), client_for(security_reviewer)
    waiting = rita.get("/api/v1/reviews/", {"state": "submitted", "awaiting": "me"}).json()
    assert [r["id"] for r in waiting["results"]] == [review_id]
    assert eng.get("/api/v1/reviews/", {"awaiting": "me"}).json()["count"] == 0

    sign_offs = f"/api/v1/reviews/{review_id}/sign-offs/"
    response = rita.post(sign_offs, {"decision": "approve", "comment": "Evidence is convincing."})
    assert response.status_code == 201 and response.json()["content_hash"] == RiskReview.objects.get().content_hash
    assert rita.get("/api/v1/reviews/", {"awaiting": "me"}).json()["count"] == 0
    review = rita.get(f"/api/v1/reviews/{review_id}/").json()
    assert review["state"] == "submitted"
    assert review["approval"] == {"approvals": 1, "quorum": 2, "missing_groups": ["security"], "conditions": []}

    response = sam.post(sign_offs, {"decision": "approve", "conditions": "Re-run the injection suite monthly."})
    assert response.status_code == 201
    review = client_for(auditor).get(f"/api/v1/reviews/{review_id}/").json()
    assert review["state"] == "approved" and review["expires_at"]
    assert review["approval"]["conditions"] == ["sam: Re-run the injection suite monthly."]
    assert review["max_inherent_score"] == 16 and review["max_residual_score"] == 6
    assert review["heat_map"]["inherent"][3][3] == 2
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.APPROVED

    # Every action is on the trail, in order.
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    for expected in [
        "review_policy.create",
        "review.create",
        "review_item.create",
        "review.submit",
        "signoff.approve",
        "review.approve",
        "deployment.approve",
    ]:
        assert expected in actions
    assert actions.index("review.submit") < actions.index("review.approve")

    # An admin revokes; only admins may.
    assert rita.post(f"/api/v1/reviews/{review_id}/revoke/", {"reason": "x"}).status_code == 403
    assert admin.post(f"/api/v1/reviews/{review_id}/revoke/", {}).json() == {"reason": ["This field is required."]}
    response = admin.post(f"/api/v1/reviews/{review_id}/revoke/", {"reason": "Provider changed licence terms."})
    assert response.status_code == 200 and response.json()["state"] == "revoked"
    response = admin.post(f"/api/v1/reviews/{review_id}/revoke/", {"reason": "again"})
    assert response.status_code == 409 and "revoked" in response.json()["detail"]


def test_refusals_are_403_or_409_with_a_message(make_user, engineer, reviewer, auditor, admin_user, client_for):
    owner_reviewer = make_user("olga", "engineer", "reviewer")
    review = submitted_review(author=admin_user, deployment=DeploymentFactory(owner=owner_reviewer))
    sign_offs = f"/api/v1/reviews/{review.pk}/sign-offs/"

    response = client_for(engineer).post(sign_offs, {"decision": "approve"})
    assert response.status_code == 403 and response.json()["detail"] == "Only reviewers may sign off."
    response = client_for(owner_reviewer).post(sign_offs, {"decision": "approve"})
    assert response.status_code == 403
    assert response.json()["detail"] == "You own this deployment, so you cannot sign off its review yourself."
    author_reviewer = make_user("dana", "engineer", "reviewer")
    other = submitted_review(author=author_reviewer)
    response = client_for(author_reviewer).post(f"/api/v1/reviews/{other.pk}/sign-offs/", {"decision": "approve"})
    assert response.status_code == 403
    assert response.json()["detail"] == "You wrote this review, so you cannot sign off it yourself."

    rita = client_for(reviewer)
    assert rita.post(sign_offs, {"decision": "abstain"}).status_code == 201
    response = rita.post(sign_offs, {"decision": "approve"})
    assert response.status_code == 409
    assert response.json()["detail"] == "You have already signed off this submission of the review."
    assert rita.post(sign_offs, {"decision": "maybe"}).json() == {"decision": ['"maybe" is not a valid choice.']}

    response = client_for(admin_user).post(f"/api/v1/reviews/{review.pk}/submit/")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Cannot submit the review: the review is submitted")

    response = client_for(auditor).post("/api/v1/reviews/", {"deployment": review.deployment_id})
    assert (
        response.status_code == 403
        and response.json()["detail"] == "Only engineers and admins may start a risk review of this deployment."
    )
    response = client_for(admin_user).post("/api/v1/reviews/", {"deployment": review.deployment_id})
    assert response.status_code == 409 and "already has an open review" in response.json()["detail"]

    draft = client_for(engineer).post("/api/v1/reviews/", {"deployment": DeploymentFactory(owner=engineer).pk}).json()
    response = rita.post(f"/api/v1/reviews/{draft['id']}/sign-offs/", {"decision": "approve"})
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a submitted review takes sign-offs; this one is draft."
    response = rita.post(f"/api/v1/reviews/{draft['id']}/request-changes/", {"comment": "?"})
    assert response.status_code == 409 and "Cannot request changes" in response.json()["detail"]
    assert SignOff.objects.count() == 1


def test_bad_item_input_is_400_per_field(engineer, client_for):
    review = client_for(engineer).post("/api/v1/reviews/", {"deployment": DeploymentFactory(owner=engineer).pk}).json()
    items = f"/api/v1/reviews/{review['id']}/items/"
    client = client_for(engineer)
    response = client.post(items, {**ITEM, "category": "reliability", "likelihood": 7, "residual_severity": 5})
    assert response.status_code == 400
    assert response.json() == {"likelihood": ["Ensure this value is less than or equal to 5."]}
    response = client.post(items, {**ITEM, "category": "reliability", "residual_severity": 5})
    assert response.status_code == 400
    assert response.json() == {
        "residual_severity": ["The residual severity cannot be above the inherent severity (4)."]
    }
    response = client.post(items, {**ITEM, "category": "nope", "evidence": "x"})
    assert set(response.json()) == {"category", "evidence"}
    item = client.post(items, {**ITEM, "category": "privacy"}).json()
    response = client.patch(f"{items}{item['id']}/", {"residual_likelihood": 5})
    assert response.status_code == 400 and "residual_likelihood" in response.json()
    assert client.patch(f"{items}{item['id']}/", {"residual_likelihood": 1}).json()["residual_likelihood"] == 1
    assert client.delete(f"{items}{item['id']}/").status_code == 204
    assert client.get(items).json() == []
    assert AuditEvent.objects.filter(action="review_item.delete").count() == 1


def test_edit_after_submission_voids_sign_offs(engineer, reviewer, other_reviewer, client_for):
    review = submitted_review(author=engineer)
    rita = client_for(reviewer)
    assert rita.post(f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "approve"}).status_code == 201
    response = client_for(engineer).patch(f"/api/v1/reviews/{review.pk}/", {"summary": "Scope narrowed to EU users."})
    assert response.status_code == 200 and response.json()["state"] == "draft"
    (sign_off,) = response.json()["sign_offs"]
    assert sign_off["void"] is True and sign_off["voided_at"]
    assert response.json()["approval"]["approvals"] == 0
    assert client_for(engineer).post(f"/api/v1/reviews/{review.pk}/submit/").json()["submission"] == 2
    assert rita.post(f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "approve"}).status_code == 201
    listed = rita.get(f"/api/v1/reviews/{review.pk}/sign-offs/").json()
    assert [(s["submission"], s["void"]) for s in listed] == [(1, True), (2, False)]


def test_reject_and_request_changes(engineer, reviewer, other_reviewer, client_for):
    review = submitted_review(author=engineer)
    rita = client_for(reviewer)
    response = rita.post(f"/api/v1/reviews/{review.pk}/request-changes/", {"comment": "Add the bias evaluation."})
    assert response.status_code == 200 and response.json()["state"] == "changes_requested"
    assert client_for(engineer).post(f"/api/v1/reviews/{review.pk}/submit/").json()["state"] == "submitted"
    response = client_for(other_reviewer).post(
        f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "reject", "comment": "Unacceptable residual risk."}
    )
    assert response.status_code == 201
    assert client_for(engineer).get(f"/api/v1/reviews/{review.pk}/").json()["state"] == "rejected"
    response = rita.post(f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "approve"})
    assert response.status_code == 409 and "rejected" in response.json()["detail"]


def test_taxonomy_and_policies_are_admin_writes(engineer, admin_user, client_for):
    listed = client_for(engineer).get("/api/v1/risk-categories/").json()
    assert listed["count"] == 8 and {"nist_ai_rmf", "eu_ai_act"} <= set(listed["results"][0])
    assert client_for(engineer).post("/api/v1/risk-categories/", {"slug": "x", "name": "X"}).status_code == 403
    admin = client_for(admin_user)
    created = admin.post(
        "/api/v1/risk-categories/",
        {"slug": "labour", "name": "Labour displacement", "nist_ai_rmf": ["MAP 5.1"], "eu_ai_act": []},
    )
    assert created.status_code == 201
    assert admin.patch(f"/api/v1/risk-categories/{created.json()['id']}/", {"retired": True}).json()["retired"]
    assert admin.delete(f"/api/v1/risk-categories/{created.json()['id']}/").status_code == 405
    assert client_for(engineer).get("/api/v1/risk-categories/", {"retired": "false"}).json()["count"] == 8

    review = client_for(engineer).post("/api/v1/reviews/", {"deployment": DeploymentFactory(owner=engineer).pk}).json()
    assert review["policy"] == ReviewPolicy.objects.get(is_default=True).pk
    # A category retired after use stays on the review that used it.
    item = client_for(engineer).post(f"/api/v1/reviews/{review['id']}/items/", {**ITEM, "category": "privacy"}).json()
    privacy = RiskCategory.objects.get(slug="privacy")
    assert admin.patch(f"/api/v1/risk-categories/{privacy.pk}/", {"retired": True}).status_code == 200
    detail = client_for(engineer).get(f"/api/v1/reviews/{review['id']}/").json()
    assert [(i["id"], i["category"]) for i in detail["items"]] == [(item["id"], "privacy")]
    response = client_for(engineer).patch(f"/api/v1/reviews/{review['id']}/items/{item['id']}/", {"severity": 5})
    assert response.status_code == 200 and response.json()["category"] == "privacy"
    response = client_for(engineer).post(f"/api/v1/reviews/{review['id']}/items/", {**ITEM, "category": "labour"})
    assert response.status_code == 400 and "retired" in response.json()["category"][0]

    assert client_for(engineer).post("/api/v1/review-policies/", {"name": "Mine"}).status_code == 403
    response = admin.post("/api/v1/review-policies/", {"name": "Bad", "quorum": 0, "required_groups": ["ghosts"]})
    assert response.status_code == 400 and set(response.json()) == {"quorum"}
    response = admin.post("/api/v1/review-policies/", {"name": "Bad", "required_groups": ["ghosts"]})
    assert response.status_code == 400 and response.json()["required_groups"] == ["No group named 'ghosts'."]
    response = admin.patch(f"/api/v1/review-policies/{review['policy']}/", {"validity_days": 90})
    assert response.status_code == 200 and response.json()["validity_days"] == 90
    assert AuditEvent.objects.filter(action="review_policy.update").exists()


def test_lists_have_a_constant_query_count(engineer, reviewer, other_reviewer, client_for):
    client = client_for(reviewer)
    policy = ReviewPolicyFactory(required_groups=[], quorum=3)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/reviews/").status_code == 200
        return len(ctx.captured_queries)

    def add_reviews(n):
        for _ in range(n):
            review = submitted_review(author=engineer, policy=policy)
            client_for(other_reviewer).post(f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "approve"})

    add_reviews(2)
    few = count_queries()
    add_reviews(5)
    assert count_queries() == few
    assert client.get("/api/v1/reviews/").json()["count"] == 7
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/reviews/", {"state": "submitted", "awaiting": "me"})
    assert len(ctx.captured_queries) == few


def test_users_without_a_role_are_refused(make_user, client_for):
    response = client_for(make_user("nobody")).get("/api/v1/reviews/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Your account holds no role in fmgov; ask an admin for one."


def test_schema_builds(admin_user, client_for):
    response = client_for(admin_user).get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/reviews/{review_pk}/sign-offs/" in response.content


def test_conditions_only_with_an_approval(engineer, reviewer, client_for):
    review = submitted_review(author=engineer)
    response = client_for(reviewer).post(
        f"/api/v1/reviews/{review.pk}/sign-offs/", {"decision": "reject", "conditions": "Fix it."}
    )
    assert response.status_code == 400 and list(response.json()["conditions"])
    assert not SignOff.objects.exists()


def test_policy_and_category_lists_have_a_constant_query_count(engineer, client_for):
    client = client_for(engineer)

    def count(url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = count("/api/v1/review-policies/"), count("/api/v1/risk-categories/")
    for _ in range(4):
        ReviewPolicyFactory().required_categories.set(RiskCategory.objects.all()[:3])
    assert (count("/api/v1/review-policies/"), count("/api/v1/risk-categories/")) == before


def test_django_admin_shows_sign_offs_read_only(engineer, reviewer, admin_user, client):
    review = submitted_review(author=engineer)
    sign_off = services.sign_off_create(review=review, actor=reviewer, decision="approve")
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get("/admin/reviews/signoff/").status_code == 200
    page = client.get(f"/admin/reviews/signoff/{sign_off.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(f"/admin/reviews/signoff/{sign_off.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/reviews/signoff/add/").status_code == 403
    assert SignOff.objects.filter(pk=sign_off.pk).exists()
