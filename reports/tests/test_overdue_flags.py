"""An overdue serious incident is flagged in every report: the dossiers it touches and the periods it spans."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from fmgov.incidents import services as incidents
from fmgov.incidents.selectors import incidents_overdue_during, incidents_overdue_touching
from fmgov.incidents.tests.factories import open_incident
from reports import services
from reports.tests import pdfcheck
from reports.tests.factories import make_adaptation, make_deployment, make_model

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def rendered_text(report) -> tuple[str, dict]:
    services.report_render(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        data = fh.read()
    return " ".join(pdfcheck.text(data).split()), pdfcheck.evidence(data)


def test_which_incidents_count_as_overdue(engineer, reviewer):
    model = make_model(engineer, name="Base-LM")
    deployment = make_deployment(engineer, make_adaptation(engineer, [model], name="Base-chat"), name="chat")
    other = make_deployment(engineer, make_model(engineer, name="Other-LM"), name="other")
    now = timezone.now()
    open_incident(reviewer, models=[model], aware_ago=20 * DAY, summary="unreported past due")
    on_time = open_incident(reviewer, deployments=[deployment], aware_ago=20 * DAY, summary="reported in time")
    incidents.incident_report(incident=on_time, actor=reviewer, reported_at=now - 10 * DAY)
    late_reported = open_incident(reviewer, deployments=[deployment], aware_ago=30 * DAY, summary="reported late")
    incidents.incident_report(incident=late_reported, actor=reviewer, reported_at=now - 12 * DAY)  # due 15 days ago
    open_incident(reviewer, deployments=[deployment], aware_ago=2 * DAY, summary="still in time")
    open_incident(reviewer, deployments=[other], aware_ago=20 * DAY, summary="elsewhere")

    touching = [i.summary for i in incidents_overdue_touching(deployment)]
    assert touching == ["reported late", "unreported past due"]  # soonest deadline first; a model it rests on counts
    # A period that ended before the late report's deadline, one it spans, and one after it was reported.
    assert [i.summary for i in incidents_overdue_during(now - 40 * DAY, now - 16 * DAY)] == []
    spanning = {i.summary for i in incidents_overdue_during(now - 14 * DAY, now - 13 * DAY)}
    assert spanning == {"reported late"}
    after = {i.summary for i in incidents_overdue_during(now - 11 * DAY, now)}
    assert after == {"unreported past due", "elsewhere"}


def test_the_dossier_and_the_period_summary_flag_an_overdue_incident(engineer, reviewer, auditor, monkeypatch):
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    model = make_model(engineer, name="Flag-LM")
    deployment = make_deployment(engineer, make_adaptation(engineer, [model], name="Flag-chat"), name="flag-bot")
    incident = open_incident(
        reviewer, models=[model], aware_ago=3 * DAY, harm_category="critical_infrastructure", summary="Grid outage"
    )  # Art. 73(3): two days, so a day overdue

    text, evidence = rendered_text(
        services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    )
    assert "Overdue serious incidents: 1" in text and "Grid outage" in text and "EU AI Act Art. 73(3)" in text
    assert [row["id"] for row in evidence["overdue_incidents"]] == [incident.pk]
    assert (
        evidence["overdue_incidents"][0]["reported_at"] is None and evidence["overdue_incidents"][0]["days_late"] >= 1
    )

    today = timezone.now().date()
    period = services.report_request(
        actor=auditor, kind="period_summary", period_start=today - dt.timedelta(days=7), period_end=today
    )
    text, evidence = rendered_text(period)
    assert "Overdue serious incidents: 1" in text and "Grid outage" in text
    assert [row["id"] for row in evidence["overdue_incidents"]] == [incident.pk]
