"""The whole demo (``manage.py seed_demo``): a portfolio worth looking at, the stories kept, and idempotent."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from audits.selectors import verify_chain
from fmgov.evaluations.tests.test_demo import impossible_metrics
from fmgov.findings.models import Finding
from fmgov.portfolio.choices import ConcentrationBand, PortfolioFindingKind
from fmgov.portfolio.selectors import concentration, footprint
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Deployment
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import RiskReview
from fmgov.reviews.selectors import deployment_approval_blocker

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_gives_a_spread_portfolio_and_a_second_run_changes_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        call_command("seed_demo", stdout=io.StringIO())

    # The stories stay: every status, and the evaluation breach that suspended the support bot.
    assert set(Deployment.objects.values_list("status", flat=True)) == set(DeploymentStatus.values)
    assert Deployment.objects.get(name="support-bot-prod").status == DeploymentStatus.SUSPENDED

    # What a visitor checks: live deployments approved, possible metric values, the expired review in the past,
    # and a trail that verifies.
    live = Deployment.objects.filter(status=DeploymentStatus.LIVE)
    for deployment in live:
        assert deployment_approval_blocker(deployment) is None, deployment.name
    assert impossible_metrics() == []
    assert RiskReview.objects.get(state=ReviewState.EXPIRED).expires_at < timezone.now()
    assert verify_chain().ok

    report = concentration()
    assert report["live_deployments"] == live.count() >= 4
    assert len(report["providers"]) >= 3
    # sentence-transformers 1.5 of 5 (the embeddings, and half of the helpdesk RAG); four others 1 or 0.5 each.
    assert report["hhi"] == pytest.approx(30**2 + 3 * 20**2 + 10**2)
    assert report["band"] == ConcentrationBand.MODERATE and not report["alert"]
    [spof] = report["single_points_of_failure"]
    assert spof["name"] == "all-MiniLM-L6-v2 1" and spof["deployments_at_risk"] == 2
    opened = Finding.objects.filter(source="portfolio", state="open").values_list("detail__kind", "subject_label")
    assert list(opened) == [(PortfolioFindingKind.SINGLE_POINT_OF_FAILURE, "all-MiniLM-L6-v2 1")]

    today = timezone.localdate()
    inference = footprint(period_start=today - dt.timedelta(days=29), period_end=today)["inference"]
    assert inference["energy_kwh"] > 0 and inference["emissions_kgco2e"] > 0
    rows = {row["name"]: row for row in inference["deployments"]}
    for deployment in live:
        row = rows[deployment.name]
        assert deployment.expected_requests_per_day and deployment.expected_tokens_per_request, deployment.name
        assert row["energy_kwh"] > 0 and row["note"] == "", deployment.name
    # Chat endpoints through latency_energy, the embeddings endpoint through embedding_latency_energy.
    assert {d.endpoint_adapter for d in live} == {"openai_chat", "local_sentence_transformers"}
    # Plus any demo deployment live for a while and suspended since: the period counts it (issue 17).
    assert inference["estimated_deployments"] >= live.count() >= 5
    gone = set(rows) - {d.name for d in live}
    assert all(0 < rows[name]["days_live_in_period"] < 1 for name in gone), gone

    before = _row_counts()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        call_command("seed_demo", stdout=out)
    assert _row_counts() == before
    assert "demo reviews: already present" in out.getvalue()
