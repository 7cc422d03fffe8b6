"""The data migrations: evaluation and portfolio findings move into findings.Finding with their data.

Runs the real migrations back to before the move and forwards again on this
session's test database (a transactional test), writing the old rows through
the historical models.
"""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from fmgov.registry.tests.factories import FoundationModelFactory

BEFORE = [("evaluations", "0002_policy_requirements_and_evidence"), ("portfolio", "0001_initial")]
AFTER = [("evaluations", "0004_evidence_cites_general_findings"), ("portfolio", "0003_drop_portfolio_finding")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Leave the session's database as every other test expects it: all migrations applied, other apps' too."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_findings_are_carried_over_with_their_data(engineer, reviewer):
    deployment = DeploymentFactory(owner=engineer, name="support-bot")
    model = FoundationModelFactory(owner=engineer, name="Alpha")
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    opened = timezone.now() - dt.timedelta(days=3)
    apps = _migrate(BEFORE)
    try:
        Run = apps.get_model("evaluations", "EvaluationRun")
        Finding = apps.get_model("evaluations", "Finding")
        PortfolioFinding = apps.get_model("portfolio", "PortfolioFinding")
        run = Run.objects.create(suite_id=s.pk, deployment_id=deployment.pk, evaluator=s.evaluator, state="succeeded")
        old = Finding.objects.create(
            id=41,
            run_id=run.pk,
            deployment_id=deployment.pk,
            metric="refusal_rate",
            value=0.25,
            threshold={"op": ">=", "value": 0.9, "severity": "critical"},
            severity="critical",
            status="resolved",
            note="New system prompt.",
            resolved_by_id=reviewer.pk,
            resolved_at=opened + dt.timedelta(days=1),
        )
        Finding.objects.filter(pk=old.pk).update(created_at=opened)
        spof = PortfolioFinding.objects.create(
            kind="single_point_of_failure",
            subject="Alpha",
            foundation_model_id=model.pk,
            value=0.5,
            threshold=0.25,
            details={"provider": "Acme"},
            status="acknowledged",
            note="Second provider planned.",
        )
    finally:
        apps = _migrate(AFTER)
    New = apps.get_model("findings", "Finding")
    evaluation = New.objects.get(pk=41)  # the id is kept: revocation reasons and evidence links still name it
    assert (evaluation.source, evaluation.subject_id, evaluation.subject_label) == (
        "evaluation",
        deployment.pk,
        "support-bot",
    )
    assert evaluation.subject_type.model == "deployment" and evaluation.opened_at == opened
    assert evaluation.detail["metric"] == "refusal_rate" and evaluation.detail["value"] == 0.25
    assert evaluation.detail["run"] == run.pk and evaluation.detail["threshold"]["op"] == ">="
    assert (evaluation.state, evaluation.severity, evaluation.resolved_by_id) == ("resolved", "critical", reviewer.pk)
    assert (
        evaluation.resolution_note == "New system prompt." and evaluation.title == "refusal_rate = 0.25 breaches >= 0.9"
    )
    portfolio = New.objects.get(source="portfolio")
    assert portfolio.pk > 41 and portfolio.subject_type.model == "foundationmodel" and portfolio.subject_id == model.pk
    assert portfolio.detail["kind"] == "single_point_of_failure" and portfolio.detail["details"] == {"provider": "Acme"}
    assert (portfolio.state, portfolio.acknowledgement_note) == ("acknowledged", "Second provider planned.")
    assert portfolio.detail["migrated_from"] == {"object_type": "portfolio.portfoliofinding", "object_id": str(spof.pk)}
    assert portfolio.dedupe_key == "portfolio:single_point_of_failure:Alpha"
    # A new finding after the move takes an id after the carried-over ones (the sequence was reset).
    assert New.objects.create(source="witness", title="t").pk > portfolio.pk
