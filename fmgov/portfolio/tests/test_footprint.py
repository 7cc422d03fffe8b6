"""Environmental footprint: training disclosure and inference estimates over a period."""

import datetime as dt

import pytest
from django.utils import timezone

from fmgov.evaluations.models import EvaluationRun, EvaluationSuite, RunMetric
from fmgov.portfolio.live_periods import forget_status_events
from fmgov.portfolio.selectors import footprint
from fmgov.portfolio.tests.factories import set_status
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 31)


def latency_energy_run(deployment, owner, *, wh: float, g: float | None, finished: dt.datetime, state="succeeded"):
    suite, _ = EvaluationSuite.objects.get_or_create(
        name="energy", defaults={"evaluator": "latency_energy", "owner": owner}
    )
    run = EvaluationRun.objects.create(
        suite=suite, deployment=deployment, evaluator="latency_energy", state=state, finished_at=finished
    )
    RunMetric.objects.create(run=run, name="energy_wh_per_1k_tokens", value=wh)
    if g is not None:
        RunMetric.objects.create(run=run, name="emissions_gco2e_per_1k_tokens", value=g)
    return run


@pytest.fixture
def registry(engineer):
    disclosed = FoundationModelFactory(
        owner=engineer, name="Open", training_energy_kwh=1000.0, training_emissions_tco2e=0.5
    )
    secret = FoundationModelFactory(owner=engineer, name="Closed")
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[disclosed.pk])
    d1 = DeploymentFactory(
        owner=engineer, foundation_model=disclosed, expected_requests_per_day=1000, expected_tokens_per_request=500
    )
    d2 = DeploymentFactory(
        owner=engineer, adaptation=adaptation, expected_requests_per_day=200, expected_tokens_per_request=1000
    )
    d3 = DeploymentFactory(owner=engineer, foundation_model=secret)  # no traffic declared
    d4 = DeploymentFactory(owner=engineer, foundation_model=secret, expected_requests_per_day=5)  # not live
    for d in (d1, d2, d3):
        set_status(d, "live")
    d1.went_live_at = timezone.make_aware(dt.datetime(2025, 6, 1))
    d1.save(update_fields=["went_live_at"])
    d2.went_live_at = timezone.make_aware(dt.datetime(2026, 1, 22))  # live for the last 10 days of January
    d2.save(update_fields=["went_live_at"])
    old = timezone.make_aware(dt.datetime(2025, 12, 1))
    new = timezone.make_aware(dt.datetime(2026, 1, 5))
    latency_energy_run(d1, engineer, wh=9.0, g=9.9, finished=old)
    latency_energy_run(d1, engineer, wh=2.0, g=0.8, finished=new)  # the latest one counts
    latency_energy_run(d1, engineer, wh=99.0, g=99.0, finished=new + dt.timedelta(days=1), state="failed")
    latency_energy_run(d2, engineer, wh=4.0, g=None, finished=new)  # no emissions: grid default 400 g/kWh
    latency_energy_run(d4, engineer, wh=1.0, g=1.0, finished=new)
    return {"disclosed": disclosed, "secret": secret, "d1": d1, "d2": d2, "d3": d3}


def test_training_counts_each_model_once_and_flags_undisclosed(registry):
    report = footprint(period_start=START, period_end=END)
    training = report["training"]
    assert training["models_in_use"] == 2, "Open is used by two deployments but counted once"
    assert training["energy_kwh"] == 1000.0 and training["emissions_tco2e"] == 0.5
    assert training["undisclosed_models"] == 1 and training["undisclosed_share"] == 0.5
    assert {m["name"]: m["disclosed"] for m in training["models"]} == {"Open 1": True, "Closed 1": False}


def test_inference_estimates_use_latest_run_traffic_and_days_live(registry):
    report = footprint(period_start=START, period_end=END)
    rows = {row["deployment"]: row for row in report["inference"]["deployments"]}
    d1, d2, d3 = rows[registry["d1"].pk], rows[registry["d2"].pk], rows[registry["d3"].pk]
    # d1: 1000 req x 500 tok x 31 days = 15.5M tokens; x 2 Wh/1k = 31,000 Wh; x 0.8 g/1k = 12,400 g.
    assert d1["tokens"] == 15_500_000 and d1["days_live_in_period"] == 31
    assert d1["energy_kwh"] == pytest.approx(31.0) and d1["emissions_kgco2e"] == pytest.approx(12.4)
    # d2: 200 x 1000 x 10 days = 2M tokens; x 4 Wh/1k = 8,000 Wh = 8 kWh; x 400 g/kWh = 3.2 kg.
    assert d2["days_live_in_period"] == 10
    assert d2["energy_kwh"] == pytest.approx(8.0) and d2["emissions_kgco2e"] == pytest.approx(3.2)
    assert d3["energy_kwh"] is None and d3["note"] == "no succeeded latency_energy or embedding_latency_energy run"
    assert report["inference"]["energy_kwh"] == pytest.approx(39.0)
    assert report["inference"]["emissions_kgco2e"] == pytest.approx(15.6)
    assert report["inference"]["estimated_deployments"] == 2
    assert "assumptions" in report["method"] and report["method"]["inference"]


def test_footprint_api_validates_and_counts_queries(registry, auditor, client_for, django_assert_num_queries):
    client = client_for(auditor)
    bad = client.get("/api/v1/portfolio/footprint/", {"period_start": "2026-02-01", "period_end": "2026-01-01"})
    assert bad.status_code == 400 and "period_end" in bad.json()
    missing = client.get("/api/v1/portfolio/footprint/")
    assert missing.status_code == 400 and set(missing.json()) >= {"period_start", "period_end"}
    params = {"period_start": START.isoformat(), "period_end": END.isoformat()}
    forget_status_events()  # a known start: the first read of the trail's status events is a whole one
    with django_assert_num_queries(8) as first:  # + the chain head and the deployment status events
        body = client.get("/api/v1/portfolio/footprint/", params).json()
    assert body["inference"]["energy_kwh"] == pytest.approx(39.0)
    engineer = registry["d1"].owner
    for _ in range(10):
        extra = DeploymentFactory(owner=engineer, expected_requests_per_day=10, expected_tokens_per_request=10)
        set_status(extra, "live")
        latency_energy_run(extra, engineer, wh=1.0, g=1.0, finished=timezone.now())
    with django_assert_num_queries(len(first.captured_queries)):
        client.get("/api/v1/portfolio/footprint/", params)
