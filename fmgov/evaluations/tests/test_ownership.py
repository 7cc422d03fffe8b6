"""Object-level rules: only a deployment's owner (or an admin) acts on its reviews, runs, uploads and evidence.

A role x ownership matrix (the owner, another engineer, a reviewer, an auditor, an admin) over every review,
evaluation and upload action, through the API and the web pages; and the breach rule that goes with it: only a
suite a review policy requires revokes down the lineage, any other suite only the deployment it ran on.
"""

import pytest
from django.urls import reverse

from fmgov.evaluations import services
from fmgov.evaluations.evaluators.base import EvaluationResult
from fmgov.evaluations.models import EvaluationRun, EvidenceLink
from fmgov.evaluations.tests.factories import DeploymentFactory, FoundationModelFactory, adaptation_of, suite
from fmgov.evaluations.tests.reviews_helpers import approved_review, draft_review, policy
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.services import deployment_go_live
from fmgov.reviews.models import RiskReview

pytestmark = pytest.mark.django_db

SUITES = "/api/v1/evaluation-suites/"
RUNS = "/api/v1/evaluation-runs/"
EVIDENCE = "/api/v1/evaluation-evidence/"
ACTORS = ("owner", "other_engineer", "reviewer", "auditor", "admin")
# Who may act on the owner's deployment: the owner and an admin; everyone else is refused with a 403.
ALLOWED = {"owner", "admin"}
UPLOAD = {"results": {"t": {"acc,none": 0.9}}}


@pytest.fixture
def people(engineer, other_engineer, reviewer, auditor, admin_user):
    return dict(zip(ACTORS, (engineer, other_engineer, reviewer, auditor, admin_user), strict=True))


def _fresh(engineer):
    """A deployment of the owner's, with a runnable suite, an upload suite and a draft review with one item."""
    deployment = DeploymentFactory(owner=engineer)
    review, item = draft_review(deployment=deployment, author=engineer)
    run = services.run_request(suite=suite(engineer), deployment=deployment, actor=engineer)
    return {
        "deployment": deployment,
        "suite": suite(engineer),
        "upload_suite": suite(engineer, "lm_eval_import", config={"source": "upload"}),
        "review": review,
        "item": item,
        "run": run,
    }


def _api_actions(client, world):
    review = world["review"]
    d = world["deployment"].pk
    return {
        "review.create": lambda: client.post(
            "/api/v1/reviews/", {"deployment": DeploymentFactory(owner=world["deployment"].owner).pk}
        ),
        "review.update": lambda: client.patch(f"/api/v1/reviews/{review.pk}/", {"summary": "Changed."}, format="json"),
        "item.create": lambda: client.post(
            f"/api/v1/reviews/{review.pk}/items/",
            {
                "category": "privacy",
                "description": "d",
                "likelihood": 2,
                "severity": 2,
                "residual_likelihood": 1,
                "residual_severity": 1,
            },
            format="json",
        ),  # fmt: skip
        "evidence.create": lambda: client.post(
            EVIDENCE, {"review_item": world["item"].pk, "run": world["run"].pk}, format="json"
        ),
        "run.request": lambda: client.post(RUNS, {"suite": world["suite"].pk, "deployment": d}, format="json"),
        "results.upload": lambda: client.post(
            f"{SUITES}{world['upload_suite'].pk}/upload-results/", {"deployment": d, "results": UPLOAD}, format="json"
        ),
        "review.submit": lambda: client.post(f"/api/v1/reviews/{review.pk}/submit/"),
    }


@pytest.mark.parametrize("who", ACTORS)
def test_api_matrix(who, people, engineer, client_for):
    world = _fresh(engineer)
    client = client_for(people[who])
    for action, call in _api_actions(client, world).items():
        response = call()
        if who in ALLOWED:
            assert response.status_code in (200, 201, 202), (who, action, response.status_code, response.content)
        else:
            assert response.status_code == 403, (who, action, response.status_code, response.content)
    if who not in ALLOWED:
        world["review"].refresh_from_db()
        assert world["review"].state == "draft" and world["review"].items.count() == 1
        assert EvaluationRun.objects.count() == 1 and not EvidenceLink.objects.exists()
        assert RiskReview.objects.filter(deployment__owner=engineer).count() == 1


@pytest.mark.parametrize("who", ACTORS)
def test_page_matrix(who, people, engineer, client):
    world = _fresh(engineer)
    review = world["review"]
    client.force_login(people[who])
    posts = {
        "review.create": (
            reverse("reviews:review-create"),
            {"deployment": DeploymentFactory(owner=engineer).pk, "policy": policy().pk, "title": "New"},
        ),
        "item.create": (
            reverse("reviews:item-create", args=[review.pk]),
            {
                "category": "",
                "description": "d",
                "likelihood": 2,
                "severity": 2,
                "residual_likelihood": 1,
                "residual_severity": 1,
            },
        ),  # fmt: skip
        "evidence.create": (
            reverse("reviews:evidence-link", args=[review.pk]),
            {"item": world["item"].pk, "run": world["run"].pk},
        ),
        "run.request": (
            reverse("evaluations:run-now"),
            {"run-suite": world["suite"].pk, "run-deployment": world["deployment"].pk},
        ),
        "review.submit": (reverse("reviews:review-submit", args=[review.pk]), {}),
    }
    from fmgov.reviews.models import RiskCategory

    posts["item.create"][1]["category"] = RiskCategory.objects.get(slug="privacy").pk
    for action, (url, data) in posts.items():
        response = client.post(url, data)
        assert response.status_code in (200, 302, 403), (who, action, response.status_code)
    review.refresh_from_db()
    made_runs = EvaluationRun.objects.count() - 1
    if who in ALLOWED:
        assert review.state == "submitted" and review.items.count() == 2, who
        assert EvidenceLink.objects.count() == 1 and made_runs == 1
        assert RiskReview.objects.filter(deployment__owner=engineer).count() == 2
    else:
        assert review.state == "draft" and review.items.count() == 1, who
        assert not EvidenceLink.objects.exists() and made_runs == 0
        assert RiskReview.objects.filter(deployment__owner=engineer).count() == 1


def _breach(run_suite, deployment, actor):
    run = services.run_request(suite=run_suite, deployment=deployment, actor=actor)
    services.run_claim(run_id=run.pk, task_id="t", worker="w")
    services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics={"refusal_rate": 0.1}))
    return run


def _shared_base(engineer, other_engineer, reviewer):
    """A base model with a live deployment of the engineer's and another engineer's adaptation built on it."""
    base = FoundationModelFactory(owner=engineer)
    mine = DeploymentFactory(owner=engineer, foundation_model=base)
    theirs = DeploymentFactory(
        owner=other_engineer, foundation_model=None, adaptation=adaptation_of(base, other_engineer)
    )
    reviews = {}
    for name, deployment, owner in (("mine", mine, engineer), ("theirs", theirs, other_engineer)):
        reviews[name] = approved_review(deployment=deployment, author=owner, reviewer=reviewer)
        deployment_go_live(deployment=deployment, actor=owner)
    return mine, theirs, reviews


def test_an_engineers_own_suite_suspends_only_the_deployment_it_ran_on(engineer, other_engineer, reviewer):
    mine, theirs, reviews = _shared_base(engineer, other_engineer, reviewer)
    own = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.95}})
    _breach(own, mine, engineer)
    for deployment in (mine, theirs):
        deployment.refresh_from_db()
    for review in reviews.values():
        review.refresh_from_db()
    assert (reviews["mine"].state, mine.status) == ("revoked", DeploymentStatus.SUSPENDED)
    assert (reviews["theirs"].state, theirs.status) == ("approved", DeploymentStatus.LIVE)


def test_a_policy_required_suite_revokes_down_the_lineage(engineer, other_engineer, reviewer, admin_user):
    mine, theirs, reviews = _shared_base(engineer, other_engineer, reviewer)
    required = suite(admin_user, thresholds={"refusal_rate": {"op": ">=", "value": 0.95}})
    services.suite_requirement_create(actor=admin_user, policy=policy(), suite=required)
    _breach(required, mine, engineer)
    for deployment in (mine, theirs):
        deployment.refresh_from_db()
        assert deployment.status == DeploymentStatus.SUSPENDED
    for review in reviews.values():
        review.refresh_from_db()
        assert review.state == "revoked"


def test_nobody_uploads_results_for_anothers_deployment(engineer, other_engineer):
    deployment = DeploymentFactory(owner=engineer)
    upload_suite = suite(other_engineer, "lm_eval_import", config={"source": "upload"})
    from fmgov.core.exceptions import NotAllowed

    with pytest.raises(NotAllowed, match="Only the owner of deployment"):
        services.run_import_results(
            suite=upload_suite,
            deployment=deployment,
            actor=other_engineer,
            result=EvaluationResult(metrics={"t:acc": 0.1}),
            source="fabricated",
        )
    assert not EvaluationRun.objects.exists()
