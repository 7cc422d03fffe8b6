"""The period footprint's energy estimates carry the range their stated assumptions span (issue 17).

The energy run's metrics come from latency_energy's own estimate with ranges stated for power,
utilisation and grid intensity, recorded by run_complete; every figure is worked out by hand below.
"""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from fmgov.evaluations import services as evaluation_services
from fmgov.evaluations.evaluators.base import Estimate, EvaluationResult
from fmgov.evaluations.evaluators.latency_energy import energy_estimate
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite
from fmgov.portfolio.selectors import footprint
from fmgov.portfolio.tests.factories import set_status
from fmgov.portfolio.tests.test_footprint import latency_energy_run
from fmgov.registry.tests.factories import DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db

JANUARY = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))

# Stated in the suite: 300-700 W, utilisation 0.5-1, PUE 1.2, grid 100-500 gCO2e/kWh, 1,000 tokens/s.
STATED = {
    "accelerator_power_w": [300, 700],
    "utilisation": [0.5, 1.0],
    "pue": 1.2,
    "grid_intensity_gco2e_per_kwh": [100, 500],
    "throughput_tps": 1000,
}
# Wh per 1,000 tokens = W x utilisation x PUE x 1 s / 3600:
#   estimate 500 x 0.75 x 1.2 / 3600 = 0.125; low 300 x 0.5 x 1.2 / 3600 = 0.05; high 700 x 1 x 1.2 / 3600 = 0.2333.
# gCO2e per 1,000 tokens: 0.125 x 0.3 = 0.0375; 0.05 x 0.1 = 0.005; 0.23333 x 0.5 = 0.116667.


def ranged_energy_run(deployment, owner, *, with_emissions: bool = True) -> EvaluationRun:
    """A succeeded latency_energy run recorded through run_claim and run_complete, as a worker records it."""
    metrics, _ = energy_estimate(STATED, Estimate(50.0))
    if not with_emissions:
        metrics.pop("emissions_gco2e_per_1k_tokens")
    suite, _ = EvaluationSuite.objects.get_or_create(
        name="ranged energy", defaults={"evaluator": "latency_energy", "owner": owner, "config": STATED}
    )
    run = EvaluationRun.objects.create(
        suite=suite, deployment=deployment, evaluator="latency_energy", config=STATED, queued_at=timezone.now()
    )
    evaluation_services.run_claim(run_id=run.pk, task_id="t", worker="w")
    done = evaluation_services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics=metrics))
    assert done is not None and done.state == "succeeded"
    return run


@pytest.fixture
def ranged(engineer):
    model = FoundationModelFactory(owner=engineer, name="Ranged")
    whole = DeploymentFactory(
        owner=engineer, name="whole-month", foundation_model=model,
        expected_requests_per_day=1000, expected_tokens_per_request=500,
    )  # fmt: skip
    grid = DeploymentFactory(
        owner=engineer, name="portfolio-grid", foundation_model=model,
        expected_requests_per_day=200, expected_tokens_per_request=1000,
    )  # fmt: skip
    point = DeploymentFactory(
        owner=engineer, name="point-only", foundation_model=model,
        expected_requests_per_day=100, expected_tokens_per_request=100,
    )  # fmt: skip
    for d, went_live in ((whole, dt.datetime(2025, 6, 1)), (grid, dt.datetime(2026, 1, 22)), (point, None)):
        set_status(d, "live")
        d.went_live_at = timezone.make_aware(went_live) if went_live else None
        d.save(update_fields=["went_live_at"])
    ranged_energy_run(whole, engineer)
    ranged_energy_run(grid, engineer, with_emissions=False)  # the portfolio's grid, 400 g/kWh, applies
    latency_energy_run(point, engineer, wh=1.0, g=0.5, finished=timezone.now())  # a run with no stated range
    return {"whole": whole, "grid": grid, "point": point}


def test_each_estimate_and_the_totals_carry_the_range_of_the_stated_assumptions(ranged):
    report = footprint(period_start=JANUARY[0], period_end=JANUARY[1])
    rows = {row["name"]: row for row in report["inference"]["deployments"]}
    whole, grid, point = rows["whole-month"], rows["portfolio-grid"], rows["point-only"]

    # 1,000 requests x 500 tokens x 31 days = 15.5M tokens = 15,500 thousands.
    # Energy: 15,500 x 0.125 = 1,937.5 Wh; x 0.05 = 775 Wh; x 0.23333 = 3,616.67 Wh.
    # Emissions: 15,500 x 0.0375 = 581.25 g; x 0.005 = 77.5 g; x 0.116667 = 1,808.33 g.
    assert whole["tokens"] == 15_500_000 and whole["range_stated"] is True
    assert whole["energy_kwh"] == pytest.approx(1.9375)
    assert (whole["energy_kwh_low"], whole["energy_kwh_high"]) == pytest.approx((0.775, 3.616667), abs=1e-6)
    assert whole["emissions_kgco2e"] == pytest.approx(0.58125)
    assert (whole["emissions_kgco2e_low"], whole["emissions_kgco2e_high"]) == pytest.approx(
        (0.0775, 1.808333), abs=1e-6
    )

    # Live the last 10 days: 200 x 1,000 x 10 = 2M tokens = 2,000 thousands.
    # Energy: 250 Wh [100, 466.67]; emissions at the portfolio's 400 g/kWh: 100 g [40, 186.67].
    assert grid["tokens"] == 2_000_000
    assert (grid["energy_kwh"], grid["energy_kwh_low"], grid["energy_kwh_high"]) == pytest.approx(
        (0.25, 0.1, 0.466667), abs=1e-6
    )
    assert (grid["emissions_kgco2e"], grid["emissions_kgco2e_low"], grid["emissions_kgco2e_high"]) == pytest.approx(
        (0.1, 0.04, 0.186667), abs=1e-6
    )

    # No stated range: 100 x 100 x 31 = 310,000 tokens x 1 Wh/1k = 310 Wh at both ends; 155 g.
    assert point["range_stated"] is False
    assert point["energy_kwh"] == point["energy_kwh_low"] == point["energy_kwh_high"] == pytest.approx(0.31)
    assert point["emissions_kgco2e_low"] == point["emissions_kgco2e_high"] == pytest.approx(0.155)

    # Totals add the low ends and the high ends.
    inference = report["inference"]
    assert inference["energy_kwh"] == pytest.approx(1.9375 + 0.25 + 0.31)
    assert inference["energy_kwh_low"] == pytest.approx(0.775 + 0.1 + 0.31, abs=1e-6)
    assert inference["energy_kwh_high"] == pytest.approx(3.616667 + 0.466667 + 0.31, abs=1e-5)
    assert inference["emissions_kgco2e_low"] == pytest.approx(0.0775 + 0.04 + 0.155, abs=1e-6)
    assert inference["emissions_kgco2e_high"] == pytest.approx(1.808333 + 0.186667 + 0.155, abs=1e-5)
    assert "range spanned by the stated assumptions" in report["method"]["inference"]


def test_the_api_returns_the_ranges(ranged, auditor, client_for):
    params = {"period_start": JANUARY[0].isoformat(), "period_end": JANUARY[1].isoformat()}
    body = client_for(auditor).get("/api/v1/portfolio/footprint/", params).json()
    assert body["inference"]["energy_kwh_low"] == pytest.approx(1.185, abs=1e-6)
    [whole] = [r for r in body["inference"]["deployments"] if r["name"] == "whole-month"]
    assert whole["energy_kwh_high"] == pytest.approx(3.616667, abs=1e-6)
    assert whole["emissions_kgco2e_low"] == pytest.approx(0.0775, abs=1e-6)


def test_the_period_summary_shows_the_ranges(ranged, auditor, monkeypatch):
    from reports import services as report_services
    from reports.tests import pdfcheck

    monkeypatch.setattr(report_services, "enqueue_on_commit", lambda task, *args: None)
    report = report_services.report_request(
        actor=auditor, kind="period_summary", period_start=JANUARY[0], period_end=JANUARY[1]
    )
    report_services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        text = " ".join(pdfcheck.text(fh.read()).split())
    assert "Inference energy (estimate) 2.498 kWh, range of the stated assumptions 1.185 to 4.393 kWh" in text
    assert "Inference emissions (estimate) 0.836 kgCO2e, range of the stated assumptions 0.273 to 2.150 kgCO2e" in text
    assert "1.9375 [0.775, 3.616667]" in text and "0.58125 [0.0775, 1.808333]" in text
    assert "the energy run states no range" in text
