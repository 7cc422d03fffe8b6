"""Reports show each metric's n and 95% interval beside its value, and "insufficient" where so (issue 17).

Rendered in-process (the renderer's own subprocess, no worker) and read back from the PDF's text.
"""

import datetime as dt

import pytest
from django.core.files.storage import default_storage

from fmgov.evaluations.evaluators.base import Estimate, insufficient, wilson
from reports import services
from reports.tests import pdfcheck
from reports.tests.factories import evaluation_history, make_deployment, make_model

pytestmark = pytest.mark.django_db


def rendered_text(report) -> str:
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        return " ".join(pdfcheck.text(fh.read()).split())  # table cells wrap: one space for any whitespace


def test_dossier_and_period_summary_show_n_and_the_interval(engineer, auditor, monkeypatch):
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    deployment = make_deployment(engineer, make_model(engineer, name="Interval-LM"), name="interval-bot")
    evaluation_history(
        deployment,
        actor=engineer,
        values=[
            {
                "mmlu:acc": Estimate(0.55, 14042, 0.5418, 0.5582, "normal interval from the file's standard error"),
                "gate:rate": wilson(19, 20),  # 0.95 [0.7639, 0.9911]
                "latency:p95": insufficient(7, need=20, method="nearest-rank p95"),
                "bare:score": 0.42,
            }
        ],
        thresholds={"gate:rate": {"op": ">=", "value": 0.9, "on": "lower"}},
    )
    dossier = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    text = rendered_text(dossier)
    assert "mmlu:acc 0.55 n = 14042, 95% CI [0.5418, 0.5582]" in text
    assert "gate:rate 0.95 n = 20, 95% CI [0.7639, 0.9911] >= 0.9 (on the lower bound)" in text
    assert "latency:p95 insufficient (n = 7)" in text
    assert "bare:score 0.42 —" in text, "a value without an interval says nothing it does not know"
    assert "latest 0.95 (n = 20, 95% CI 0.7639 to 0.9911)" in text  # the chart's caption
    # The breach's finding, in the findings table with the interval it was judged on.
    assert text.count("n = 20, 95% CI [0.7639, 0.9911] >= 0.9 (on the lower bound)") == 2

    today = dt.date.today()
    period = services.report_request(
        actor=auditor, kind="period_summary", period_start=today.replace(day=1), period_end=today
    )
    summary = rendered_text(period)
    assert "gate:rate 0.95 n = 20, 95% CI [0.7639, 0.9911] >= 0.9 (on the lower bound)" in summary


def test_the_pdf_trend_chart_draws_the_interval_as_a_band():
    from reports.rendering.document import _evaluation_charts

    def series(**interval):
        point = {"time": "2026-11-02T10:00:00+00:00", "value": 0.95, "passed": True, "threshold": 0.9, "op": ">="}
        return {"suite": "gate", "metric": "rate", "points": [{**point, **interval}, {**point, **interval}]}

    banded = _evaluation_charts({"series": [series(ci_low=0.7639, ci_high=0.9911)], "runs": []})[0]["svg"]
    bare = _evaluation_charts({"series": [series()], "runs": []})[0]["svg"]
    assert "shaded band: 95% interval" in banded
    assert "shaded band" not in bare
