"""Uploads are evidence, not a gate, until an admin accepts them; required suites are the admins' (issue 15)."""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import NotAllowed
from fmgov.evaluations import services
from fmgov.evaluations.evaluators.base import EvaluationResult
from fmgov.evaluations.models import SuiteRequirement
from fmgov.evaluations.selectors import latest_passing_run, review_submission_blockers
from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from fmgov.evaluations.tests.reviews_helpers import draft_review, policy

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/evaluation-runs/"
SUITES = "/api/v1/evaluation-suites/"
THRESHOLDS = {"t:acc": {"op": ">=", "value": 0.5}}


def _required_upload_suite(engineer, admin_user):
    upload_suite = suite(engineer, "lm_eval_import", config={"source": "upload"}, thresholds=THRESHOLDS)
    review_policy = policy()
    services.suite_requirement_create(actor=admin_user, policy=review_policy, suite=upload_suite)
    return upload_suite, review_policy


def _upload(upload_suite, deployment, engineer):
    return services.run_import_results(
        suite=upload_suite,
        deployment=deployment,
        actor=engineer,
        result=EvaluationResult(metrics={"t:acc": 0.9}),
        source="results.json",
    )


def test_an_upload_satisfies_a_required_suite_only_once_an_admin_accepts_it(
    engineer, other_engineer, reviewer, auditor, admin_user, client_for
):
    upload_suite, review_policy = _required_upload_suite(engineer, admin_user)
    deployment = DeploymentFactory(owner=engineer)
    review, _ = draft_review(deployment=deployment, author=engineer, review_policy=review_policy)
    run = _upload(upload_suite, deployment, engineer)
    assert run.passed is True and run.is_upload
    assert latest_passing_run(suite=upload_suite, deployment=deployment) is None
    (blocker,) = review_submission_blockers(review)
    assert "an admin accepts it" in blocker
    for user in (engineer, other_engineer, reviewer, auditor):
        response = client_for(user).post(f"{RUNS}{run.pk}/accept/")
        assert response.status_code == 403, user
    response = client_for(admin_user).post(f"{RUNS}{run.pk}/accept/")
    assert response.status_code == 200 and response.json()["accepted_at"]
    event = AuditEvent.objects.get(action="evaluation_run.accept_upload", object_id=str(run.pk))
    assert event.actor_id == admin_user.pk and event.context["deployment"] == deployment.pk
    assert latest_passing_run(suite=upload_suite, deployment=deployment) == run
    assert review_submission_blockers(review) == []
    assert client_for(admin_user).post(f"{RUNS}{run.pk}/accept/").status_code == 409  # once


def test_only_uploads_that_completed_can_be_accepted(engineer, admin_user, client_for):
    deployment = DeploymentFactory(owner=engineer)
    worker_run = services.run_request(suite=suite(engineer), deployment=deployment, actor=engineer)
    response = client_for(admin_user).post(f"{RUNS}{worker_run.pk}/accept/")
    assert response.status_code == 409 and "not uploaded" in response.json()["detail"]
    assert client_for(admin_user).post(f"{RUNS}999999/accept/").status_code == 404


def test_a_required_suite_and_its_thresholds_are_the_admins(engineer, admin_user, client_for):
    upload_suite, _ = _required_upload_suite(engineer, admin_user)
    looser = {"t:acc": {"op": ">=", "value": 0.0}}
    response = client_for(engineer).patch(f"{SUITES}{upload_suite.pk}/", {"thresholds": looser}, format="json")
    assert response.status_code == 403 and "only admins" in response.json()["detail"]
    with pytest.raises(NotAllowed):
        services.suite_update(suite=upload_suite, actor=engineer, description="mine")
    upload_suite.refresh_from_db()
    assert upload_suite.thresholds == THRESHOLDS
    response = client_for(admin_user).patch(f"{SUITES}{upload_suite.pk}/", {"thresholds": looser}, format="json")
    assert response.status_code == 200
    # Once no policy requires it, it is its owner's again.
    services.suite_requirement_delete(actor=admin_user, requirement=SuiteRequirement.objects.get(suite=upload_suite))
    assert services.suite_update(suite=upload_suite, actor=engineer, description="mine").description == "mine"
