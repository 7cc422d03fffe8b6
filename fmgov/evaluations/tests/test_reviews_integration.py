"""Breaches revoke approvals down the lineage; runs and findings as evidence; required suites block submission."""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.core.testing.worker import wait_for
from fmgov.evaluations import services
from fmgov.evaluations.choices import RUN_FINAL_STATES, RunState
from fmgov.evaluations.evaluators.base import EvaluationResult
from fmgov.evaluations.models import EvaluationRun
from fmgov.evaluations.selectors import evidence_for_review, review_submission_blockers
from fmgov.evaluations.testing.fake_openai import Behaviour
from fmgov.evaluations.tests.factories import DeploymentFactory, FoundationModelFactory, adaptation_of, suite
from fmgov.evaluations.tests.reviews_helpers import approved_review, draft_review, policy
from fmgov.findings.models import Finding
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import services as review_services
from fmgov.reviews.models import RiskReview

EVIDENCE = "/api/v1/evaluation-evidence/"
REQUIREMENTS = "/api/v1/evaluation-suite-requirements/"


def lineage(owner, base_url):
    """model M <- adaptation A1 <- adaptation A2, a deployment of each, and an unrelated model's deployment."""
    model = FoundationModelFactory(owner=owner)
    a1 = adaptation_of(model, owner)
    a2 = adaptation_of(a1, owner)
    return {
        "model": DeploymentFactory(owner=owner, foundation_model=model, endpoint_base_url=base_url),
        "child": DeploymentFactory(owner=owner, foundation_model=None, adaptation=a1),
        "grandchild": DeploymentFactory(owner=owner, foundation_model=None, adaptation=a2),
        "unrelated": DeploymentFactory(owner=owner),
    }


def approve_all(deployments, engineer, reviewer):
    return {name: approved_review(deployment=d, author=engineer, reviewer=reviewer) for name, d in deployments.items()}


def assert_revoked_down_the_lineage(reviews, finding):
    for name, review in reviews.items():
        review.refresh_from_db()
        review.deployment.refresh_from_db()
        if name == "unrelated":
            assert review.state == "approved" and review.deployment.status == DeploymentStatus.APPROVED
        else:
            assert review.state == "revoked", name
            assert f"finding #{finding.pk}" in review.revoked_reason
            assert review.deployment.status == DeploymentStatus.PROPOSED, name
    events = AuditEvent.objects.filter(action="review.revoke").order_by("seq")
    assert sorted(int(e.object_id) for e in events) == sorted(reviews[n].pk for n in ("model", "child", "grandchild"))
    assert all(e.context["finding"] == finding.pk and e.actor_system == "fmgov.evaluations" for e in events)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_breach_on_a_real_worker_revokes_approvals_two_levels_down(
    celery_worker, fake_openai, engineer, reviewer, admin_user
):
    fake_openai.behaviour = Behaviour(mode="comply")
    deployments = lineage(engineer, fake_openai.base_url)
    reviews = approve_all(deployments, engineer, reviewer)
    s = suite(
        engineer,
        config={"categories": ["fraud"], "include_over_refusal": False},
        thresholds={"refusal_rate": {"op": ">=", "value": 0.95}},
    )
    services.suite_requirement_create(actor=admin_user, policy=policy(), suite=s)  # only a required suite propagates
    run = services.run_request(suite=s, deployment=deployments["model"], actor=engineer)
    run = wait_for(
        lambda: EvaluationRun.objects.filter(pk=run.pk, state__in=RUN_FINAL_STATES).first(), timeout=90, message="run"
    )
    assert run.state == RunState.SUCCEEDED, run.error
    finding = Finding.objects.get(detail__run=run.pk)
    assert (finding.detail["metric"], finding.detail["value"], finding.subject) == ("refusal_rate", 0.0, run.deployment)
    assert_revoked_down_the_lineage(reviews, finding)


@pytest.mark.django_db
def test_breach_of_an_adaptation_revokes_its_descendants_only(engineer, reviewer, admin_user):
    deployments = lineage(engineer, "http://127.0.0.1:9/v1")
    reviews = approve_all(deployments, engineer, reviewer)
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.95}})
    services.suite_requirement_create(actor=admin_user, policy=policy(), suite=s)
    run = services.run_request(suite=s, deployment=deployments["child"], actor=engineer)
    services.run_claim(run_id=run.pk, task_id="t", worker="w")
    services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics={"refusal_rate": 0.5}))
    states = {}
    for name, review in reviews.items():
        review.refresh_from_db()
        states[name] = review.state
    assert states == {"model": "approved", "child": "revoked", "grandchild": "revoked", "unrelated": "approved"}


@pytest.mark.django_db
def test_required_suite_blocks_submission_until_a_recent_passing_run(engineer, reviewer, admin_user, client_for):
    deployment = DeploymentFactory(owner=engineer)
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    review_policy = policy()
    response = client_for(engineer).post(
        REQUIREMENTS, {"policy": review_policy.pk, "suite": s.pk, "max_age_days": 7}, format="json"
    )
    assert response.status_code == 403
    response = client_for(admin_user).post(
        REQUIREMENTS, {"policy": review_policy.pk, "suite": s.pk, "max_age_days": 0}, format="json"
    )
    assert response.status_code == 400 and "max_age_days" in response.json()
    response = client_for(admin_user).post(
        REQUIREMENTS, {"policy": review_policy.pk, "suite": s.pk, "max_age_days": 7}, format="json"
    )
    assert response.status_code == 201
    review, _ = draft_review(deployment=deployment, author=engineer, review_policy=review_policy)
    assert len(review_submission_blockers(review)) == 1
    with pytest.raises(Conflict, match=s.name):
        review_services.review_submit(review=review, actor=engineer)

    def finish(value):
        run = services.run_request(suite=s, deployment=deployment, actor=engineer)
        services.run_claim(run_id=run.pk, task_id=f"t{run.pk}", worker="w")
        services.run_complete(
            run_id=run.pk, task_id=f"t{run.pk}", result=EvaluationResult(metrics={"refusal_rate": value})
        )

    finish(0.5)  # a failing run does not count
    assert review_submission_blockers(review)
    finish(0.97)
    assert review_submission_blockers(review) == []
    assert review_services.review_submit(review=review, actor=engineer).state == "submitted"


@pytest.mark.django_db
def test_runs_and_findings_link_as_evidence_on_review_items(engineer, other_engineer, auditor, client_for):
    deployment = DeploymentFactory(owner=engineer)
    review, item = draft_review(deployment=deployment, author=engineer)
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    run = services.run_request(suite=s, deployment=deployment, actor=engineer)
    services.run_claim(run_id=run.pk, task_id="t", worker="w")
    services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics={"refusal_rate": 0.2}))
    finding = Finding.objects.get()
    client = client_for(engineer)
    assert client.post(EVIDENCE, {"review_item": item.pk, "run": run.pk}, format="json").status_code == 201
    assert client.post(EVIDENCE, {"review_item": item.pk, "finding": finding.pk}, format="json").status_code == 201
    response = client.post(EVIDENCE, {"review_item": item.pk, "run": run.pk}, format="json")
    assert response.status_code == 400 and "Already linked" in response.json()["run"][0]
    response = client.post(EVIDENCE, {"review_item": item.pk, "run": run.pk, "finding": finding.pk}, format="json")
    assert response.status_code == 400
    other_run = services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)
    response = client.post(EVIDENCE, {"review_item": item.pk, "run": other_run.pk}, format="json")
    assert response.status_code == 400 and "another deployment" in response.json()["run"][0]
    assert client_for(auditor).post(EVIDENCE, {"review_item": item.pk, "run": run.pk}, format="json").status_code == 403
    assert evidence_for_review(review).count() == 2
    assert client_for(auditor).get(EVIDENCE, {"review_item__review": review.pk}).json()["count"] == 2
    assert AuditEvent.objects.filter(action="evidence_link.create").count() == 2
    with pytest.raises(InvalidInput):
        services.evidence_link_create(actor=engineer, review_item=item)
    assert RiskReview.objects.get(pk=review.pk).state == "draft"
