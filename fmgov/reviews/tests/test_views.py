"""Review pages: heat map, item editing while draft, submit, sign-off panel, refusals as messages, queries."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fmgov.reviews.models import RiskCategory, RiskReview
from fmgov.reviews.tests.factories import (
    DeploymentFactory,
    ReviewPolicyFactory,
    add_item,
    join_group,
    ready_review,
    submitted_review,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_review_is_started_from_a_deployment(web, engineer):
    deployment = DeploymentFactory(owner=engineer)
    policy = ReviewPolicyFactory()
    client = web(engineer)
    page = client.get(reverse("reviews:review-create"), {"deployment": deployment.pk})
    assert page.status_code == 200
    response = client.post(
        reverse("reviews:review-create"), {"deployment": deployment.pk, "policy": policy.pk, "title": "Launch"}
    )
    review = RiskReview.objects.get(deployment=deployment)
    assert response["Location"] == reverse("reviews:review-detail", args=[review.pk])
    assert review.created_by == engineer and review.title == "Launch"
    again = client.post(reverse("reviews:review-create"), {"deployment": deployment.pk, "policy": policy.pk})
    assert again.status_code == 200
    assert any("already has an open review" in m for m in messages_of(again))


def test_reviewer_cannot_start_a_review(web, reviewer, engineer):
    deployment = DeploymentFactory(owner=engineer)
    assert web(reviewer).get(reverse("reviews:review-create"), {"deployment": deployment.pk}).status_code == 403


def test_items_are_added_edited_and_shown_on_the_heat_map(web, engineer):
    review = ready_review(author=engineer, slugs=[])
    client = web(engineer)
    category = RiskCategory.objects.get(slug="reliability")
    response = client.post(
        reverse("reviews:item-create", args=[review.pk]),
        {
            "category": category.pk,
            "description": "Invents refund rules",
            "likelihood": 5,
            "severity": 4,
            "mitigation": "RAG",
            "residual_likelihood": 2,
            "residual_severity": 4,
            "evidence": "https://example.org/eval\nred team notes",
        },  # fmt: skip
    )
    assert response.status_code == 302
    item = review.items.get()
    assert item.evidence == ["https://example.org/eval", "red team notes"]
    page = client.get(reverse("reviews:review-detail", args=[review.pk]))
    inherent = page.context["inherent"]
    assert inherent[0]["likelihood"] == 5 and inherent[0]["cells"][3]["count"] == 1
    assert page.context["residual"][3]["cells"][3]["count"] == 1
    assert 'class="heatmap"' in page.content.decode()
    client.post(
        reverse("reviews:item-edit", args=[review.pk, item.pk]),
        {
            "category": category.pk,
            "description": "Invents refund rules",
            "likelihood": 3,
            "severity": 4,
            "mitigation": "RAG",
            "residual_likelihood": 2,
            "residual_severity": 4,
            "evidence": "",
        },  # fmt: skip
    )
    item.refresh_from_db()
    assert item.likelihood == 3 and item.evidence == []


def test_residual_above_inherent_is_refused_with_a_message(web, engineer):
    review = ready_review(author=engineer, slugs=[])
    category = RiskCategory.objects.get(slug="reliability")
    response = web(engineer).post(
        reverse("reviews:item-create", args=[review.pk]),
        {
            "category": category.pk,
            "description": "x",
            "likelihood": 2,
            "severity": 2,
            "residual_likelihood": 4,
            "residual_severity": 2,
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert messages_of(response)
    assert not review.items.exists()


def test_submit_refused_without_items_then_accepted(web, engineer):
    review = ready_review(author=engineer, slugs=[])
    client = web(engineer)
    response = client.post(reverse("reviews:review-submit", args=[review.pk]))
    assert any("at least one risk item" in m for m in messages_of(response))
    add_item(review, engineer)
    client.post(reverse("reviews:review-submit", args=[review.pk]))
    review.refresh_from_db()
    assert review.state == "submitted"


def test_self_approval_is_refused_as_a_message(web, make_user):
    both = make_user("bo", "engineer", "reviewer")
    review = submitted_review(author=both, deployment=DeploymentFactory(owner=both))
    client = web(both)
    page = client.get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    assert "does not let you sign it off" in page
    response = client.post(reverse("reviews:sign-off", args=[review.pk]), {"decision": "approve"}, follow=True)
    assert response.status_code == 200
    assert "you cannot sign off it yourself" in response.content.decode()
    assert review.sign_offs.count() == 0


def test_two_reviewers_approve(web, engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=2))
    web(reviewer).post(reverse("reviews:sign-off", args=[review.pk]), {"decision": "approve", "conditions": "Monthly"})
    page = web(reviewer).get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    assert "You have signed off this submission" in page and "Record my decision" not in page
    response = web(other_reviewer).post(reverse("reviews:sign-off", args=[review.pk]), {"decision": "approve"})
    assert any("approve" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == "approved"
    assert review.deployment.status == "approved"


def test_engineer_sees_no_sign_off_panel_and_auditor_cannot_sign(web, engineer, auditor):
    review = submitted_review(author=engineer)
    assert (
        "Record my decision"
        not in web(engineer).get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    )
    response = web(auditor).post(reverse("reviews:sign-off", args=[review.pk]), {"decision": "approve"})
    assert any("Only reviewers" in m for m in messages_of(response))


def test_request_changes(web, engineer, reviewer):
    review = submitted_review(author=engineer)
    web(reviewer).post(reverse("reviews:request-changes", args=[review.pk]), {"changes-comment": "Add a bias item"})
    review.refresh_from_db()
    assert review.state == "changes_requested"


def test_awaiting_filter(web, engineer, reviewer):
    mine = submitted_review(author=engineer)
    ready_review(author=engineer)
    page = web(reviewer).get(reverse("reviews:review-list"), {"awaiting": "on"})
    assert [r.pk for r in page.context["page"]] == [mine.pk]


def test_review_list_queries_are_constant(web, engineer, reviewer, django_assert_max_num_queries):
    join_group(reviewer, "security")
    client = web(reviewer)
    submitted_review(author=engineer)
    client.get(reverse("reviews:review-list"))
    with django_assert_max_num_queries(12):
        client.get(reverse("reviews:review-list"))
    for _ in range(8):
        review = submitted_review(author=engineer)
        add_item(review, engineer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("reviews:review-list"))
    assert len(response.context["page"]) == 9


def test_an_evaluation_run_is_cited_as_evidence(web, engineer, other_engineer):
    from fmgov.evaluations import services as evaluation_services
    from fmgov.evaluations.evaluators import EvaluationResult
    from fmgov.evaluations.tests.factories import DeploymentFactory as ChatDeploymentFactory
    from fmgov.evaluations.tests.factories import suite

    deployment = ChatDeploymentFactory(owner=engineer)
    review = ready_review(author=engineer, deployment=deployment, slugs=["reliability"])
    run = evaluation_services.run_request(suite=suite(engineer), deployment=deployment, actor=engineer)
    evaluation_services.run_claim(run_id=run.pk, task_id="t", worker="w")
    evaluation_services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics={"refusal_rate": 1}))
    other_run = evaluation_services.run_request(
        suite=suite(engineer), deployment=ChatDeploymentFactory(owner=engineer), actor=engineer
    )
    item = review.items.get()
    client = web(engineer)
    page = client.get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    assert "Cite an evaluation run as evidence" in page
    response = client.post(reverse("reviews:evidence-link", args=[review.pk]), {"item": item.pk, "run": other_run.pk})
    assert any("another deployment" in m for m in messages_of(response))
    response = client.post(reverse("reviews:evidence-link", args=[review.pk]), {"item": item.pk, "run": run.pk})
    assert any(f"Run #{run.pk} cited" in m for m in messages_of(response))
    page = client.get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    assert reverse("evaluations:run-detail", args=[run.pk]) in page


def test_admin_revokes_an_approval_and_others_cannot(web, engineer, reviewer, other_reviewer, admin_user):
    from fmgov.reviews.services import sign_off_create

    review = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=2))
    for user in (reviewer, other_reviewer):
        sign_off_create(review=review, actor=user, decision="approve")
    url = reverse("reviews:review-revoke", args=[review.pk])
    assert web(engineer).post(url, {"revoke-reason": "mine"}).status_code == 403
    assert (
        "Revoke approval" not in web(reviewer).get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    )
    client = web(admin_user)
    assert "Revoke approval" in client.get(reverse("reviews:review-detail", args=[review.pk])).content.decode()
    response = client.post(url, {"revoke-reason": "Base model withdrawn by its provider"})
    assert any("Approval revoked" in m for m in messages_of(response))
    review.refresh_from_db()
    assert review.state == "revoked" and review.deployment.status == "proposed"
    response = client.post(url, {"revoke-reason": "again"})
    assert [m.tags for m in get_messages(response.wsgi_request)][-1] == "error"
