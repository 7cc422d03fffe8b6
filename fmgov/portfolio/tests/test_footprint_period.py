"""The footprint of a past period counts what was live then, from the deployment status events (issue 17)."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from fmgov.evaluations.tests.reviews_helpers import approved_review
from fmgov.portfolio.live_periods import days_live, live_intervals, period_bounds
from fmgov.portfolio.selectors import footprint
from fmgov.portfolio.tests.factories import set_status
from fmgov.portfolio.tests.test_footprint import latency_energy_run
from fmgov.registry import services as registry_services
from fmgov.registry.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db

SEPTEMBER = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def at(year: int, month: int, day: int) -> mock._patch:
    """Every service, and the audit trail, sees this as now (midnight, site time zone)."""
    moment = timezone.make_aware(dt.datetime(year, month, day))
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def retired_in_october(engineer, reviewer):
    """Live from 5 September to 10 October 2026 through the real workflow, retired since."""
    with at(2026, 9, 1):
        deployment = DeploymentFactory(owner=engineer, expected_requests_per_day=100, expected_tokens_per_request=10)
        approved_review(deployment=deployment, author=engineer, reviewer=reviewer)
    with at(2026, 9, 5):
        registry_services.deployment_go_live(deployment=deployment, actor=engineer)
    with at(2026, 9, 20):
        latency_energy_run(deployment, engineer, wh=2.0, g=1.0, finished=timezone.now())
    with at(2026, 10, 10):
        registry_services.deployment_retire(deployment=deployment, actor=engineer, reason="replaced")
    deployment.refresh_from_db()
    assert deployment.status == "retired"
    return deployment


def test_a_past_month_counts_a_deployment_retired_since(retired_in_october):
    september = footprint(period_start=SEPTEMBER[0], period_end=SEPTEMBER[1])
    [row] = september["inference"]["deployments"]
    assert row["deployment"] == retired_in_october.pk
    assert row["days_live_in_period"] == 26  # 5 to 30 September
    # 100 requests x 10 tokens x 26 days = 26,000 tokens; x 2 Wh/1k = 52 Wh; x 1 g/1k = 26 g.
    assert row["tokens"] == 26_000
    assert row["energy_kwh"] == pytest.approx(0.052) and row["emissions_kgco2e"] == pytest.approx(0.026)
    assert september["training"]["models_in_use"] == 1

    [row] = footprint(period_start=OCTOBER[0], period_end=OCTOBER[1])["inference"]["deployments"]
    assert row["days_live_in_period"] == 9  # 1 to 10 October, retired at its start
    november = footprint(period_start=dt.date(2026, 11, 1), period_end=dt.date(2026, 11, 30))
    assert november["inference"]["deployments"] == [] and november["training"]["models_in_use"] == 0
    august = footprint(period_start=dt.date(2026, 8, 1), period_end=dt.date(2026, 8, 31))
    assert august["inference"]["deployments"] == []


def test_the_period_summary_of_a_past_month_counts_a_deployment_retired_since(retired_in_october, auditor, monkeypatch):
    """The report itself, rendered in-process: the footprint table and the attached evidence name it."""
    from django.core.files.storage import default_storage

    from reports import services as report_services
    from reports.tests import pdfcheck

    monkeypatch.setattr(report_services, "enqueue_on_commit", lambda task, *args: None)
    report = report_services.report_request(
        actor=auditor, kind="period_summary", period_start=SEPTEMBER[0], period_end=SEPTEMBER[1]
    )
    report_services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        data = fh.read()
    text = " ".join(pdfcheck.text(data).split())
    assert f"{retired_in_october.name} 26.0 26000 0.052" in text  # 26 days live, 26,000 tokens, 0.052 kWh
    [row] = pdfcheck.evidence(data)["portfolio"]["footprint"]["inference"]["deployments"]
    assert row["deployment"] == retired_in_october.pk and row["days_live_in_period"] == 26


def test_suspension_gaps_are_not_counted_and_a_later_change_does_not_alter_the_past(engineer, reviewer):
    with at(2026, 9, 1):
        deployment = DeploymentFactory(owner=engineer, expected_requests_per_day=1, expected_tokens_per_request=1)
        approved_review(deployment=deployment, author=engineer, reviewer=reviewer)
    with at(2026, 9, 2):
        registry_services.deployment_go_live(deployment=deployment, actor=engineer)
    with at(2026, 9, 10):
        registry_services.deployment_suspend(deployment=deployment, actor=engineer, reason="incident")
    with at(2026, 9, 20):
        registry_services.deployment_go_live(deployment=deployment, actor=engineer)
    [row] = footprint(period_start=SEPTEMBER[0], period_end=SEPTEMBER[1])["inference"]["deployments"]
    assert row["days_live_in_period"] == 8 + 11  # 2-9 and 20-30 September
    registry_services.deployment_retire(deployment=deployment, actor=engineer, reason="done")  # today
    [again] = footprint(period_start=SEPTEMBER[0], period_end=SEPTEMBER[1])["inference"]["deployments"]
    assert again["days_live_in_period"] == 19


def test_a_deployment_the_trail_never_saw_go_live_counts_from_went_live_at(engineer):
    """Rows older than the status events (or set outside the services) are reconciled with the row."""
    deployment = DeploymentFactory(owner=engineer)
    set_status(deployment, "live")
    deployment.went_live_at = timezone.make_aware(dt.datetime(2026, 9, 16))
    deployment.save(update_fields=["went_live_at"])
    [row] = footprint(period_start=SEPTEMBER[0], period_end=SEPTEMBER[1])["inference"]["deployments"]
    assert row["days_live_in_period"] == 15
    assert (
        footprint(period_start=dt.date(2026, 8, 1), period_end=dt.date(2026, 8, 31))["inference"]["deployments"] == []
    )


def test_interval_arithmetic():
    begin, end = period_bounds(*SEPTEMBER)
    assert (end - begin).days == 30
    noon = timezone.make_aware(dt.datetime(2026, 9, 3, 12))
    assert days_live([(None, None)], begin, end) == 30
    assert days_live([(noon, None)], begin, end) == 27.5
    assert days_live([(None, begin)], begin, end) == 0
    events = {7: [(begin, "live", "suspended")]}  # left live before the trail saw it go live
    assert live_intervals(rows={7: ("suspended", None)}, events=events, until=end) == {7: [(None, begin)]}
    assert live_intervals(rows={8: ("proposed", None)}, events={}, until=end) == {}
