"""The scene every ML-BOM test reads: a deployment on a two-level adaptation with two parents at each level.

    model A   model B        model C
        \\     /              /
     adaptation L1 (A, B)   /
               \\          /
            adaptation L2 (L1, C)  <- deployment "support-bot", sealed credential

Models and adaptations go through the registry's services (audited), as real ones do.
"""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.utils import timezone

from fmgov.registry import services as registry
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory, sha256

seed_migration = importlib.import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy")

SECRET_VALUE = "sk-live-0123456789abcdefSECRET"
SECRET_ENV = "FMGOV_CREDENTIAL_BOM_TEST_SECRET"


@pytest.fixture(autouse=True)
def seeded_taxonomy(request):
    """Transactional tests elsewhere empty the seeded taxonomy; review items need it back."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    seed_migration.seed(apps, None)


def build_lineage(owner) -> SimpleNamespace:
    a = FoundationModelFactory(
        owner=owner,
        name="Base-A",
        provider="Example AI",
        architecture="decoder-only transformer",
        intended_uses="Assistants.",
        out_of_scope_uses="Medical advice.",
        training_data_summary="Public web text.",
        training_energy_kwh=1200.0,
        training_emissions_tco2e=0.4,
        hf_repo_id="example/base-a",
    )
    b = FoundationModelFactory(owner=owner, name="Base-B", provider="Other Lab", license="mit")
    c = FoundationModelFactory(owner=owner, name="Base-C", provider="Third Co", license="llama3.1")
    l1 = AdaptationFactory(
        owner=owner,
        name="merge-l1",
        kind="fine_tune",
        artifact_digest=sha256("merge-l1"),
        derived_from_models=[a.pk, b.pk],
    )
    l2 = AdaptationFactory(
        owner=owner,
        name="support-l2",
        kind="lora",
        purpose="Answer support tickets.",
        artifact_digest=sha256("support-l2"),
        derived_from_adaptations=[l1.pk],
        derived_from_models=[c.pk],
    )
    return SimpleNamespace(a=a, b=b, c=c, l1=l1, l2=l2)


@pytest.fixture
def lineage(engineer):
    return build_lineage(engineer)


@pytest.fixture
def credential(admin_user):
    return registry.endpoint_credential_create(
        actor=admin_user, name="support-bot-key", source="sealed", value=SECRET_VALUE, allowed_hosts=["llm.example.org"]
    )


@pytest.fixture
def env_credential(admin_user):
    return registry.endpoint_credential_create(
        actor=admin_user, name="support-bot-env", source="env", env_var=SECRET_ENV, allowed_hosts=["llm.example.org"]
    )


@pytest.fixture
def deployment(engineer, lineage, credential):
    return registry.deployment_create(
        actor=engineer,
        name="support-bot",
        adaptation=lineage.l2,
        environment="production",
        endpoint_adapter="openai_chat",
        endpoint_base_url="https://llm.example.org/v1",
        endpoint_model="support-l2",
        endpoint_credential=credential,
        region="eu-west-1",
    )


def add_run(deployment, owner, *, suite_name: str, metrics: dict, age_days: int = 0):
    """A succeeded run with metrics {name: (value, n, ci_low, ci_high)}, finished ``age_days`` ago."""
    from fmgov.evaluations.models import EvaluationRun, EvaluationSuite, RunMetric

    suite, _ = EvaluationSuite.objects.get_or_create(
        name=suite_name, defaults={"evaluator": "counterfactual_bias", "owner": owner}
    )
    finished = timezone.now() - timedelta(days=age_days)
    run = EvaluationRun.objects.create(
        suite=suite, deployment=deployment, evaluator=suite.evaluator, state="succeeded", finished_at=finished
    )
    for name, (value, n, low, high) in metrics.items():
        RunMetric.objects.create(run=run, name=name, value=value, n=n, ci_low=low, ci_high=high, method="wilson")
    return run


def approve_deployment(deployment, author, *reviewers):
    """An approved review (bias and environmental items) signed by every reviewer given."""
    from fmgov.reviews.services import review_submit
    from fmgov.reviews.tests.factories import approve, ready_review

    review = ready_review(author=author, deployment=deployment, slugs=["bias", "environmental"])
    review = review_submit(review=review, actor=author)
    approve(review, *reviewers, conditions="Re-run the bias suite monthly.")
    review.refresh_from_db()
    return review
