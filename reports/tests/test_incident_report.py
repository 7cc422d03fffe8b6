"""The serious-incident report: requested like the other kinds, rendered as PDF/A-3b with the incident as JSON.

Rendered in-process (the renderer's own subprocess, no worker) and read back: the text holds the dates a
reader of the Commission's template looks for, and the attached evidence.json holds the incident as recorded.
"""

import datetime as dt

import pytest
from django.utils import timezone

from audits.canonical import format_timestamp
from fmgov.evidence.tests.factories import attach, pdf_bytes
from fmgov.incidents import services as incidents
from fmgov.incidents.tests.factories import open_incident
from reports.models import Report
from reports.services import report_render
from reports.tests import pdfcheck
from reports.tests.factories import make_adaptation, make_deployment, make_model

URL = "/api/v1/reports/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("reports.services.enqueue_on_commit", lambda task, *args: sent.append(args))
    return sent


def stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def test_the_incident_report_holds_the_dates_and_its_json_is_the_incident(
    client_for, engineer, reviewer, auditor, queued, settings
):
    settings.FMGOV_ORGANISATION_NAME = "Example Health GmbH"
    model = make_model(engineer, name="Atlas-7B", version="2.1")
    adaptation = make_adaptation(engineer, [model], name="Atlas-pharma", version="3")
    deployment = make_deployment(engineer, adaptation, name="pharmacy-bot")
    downstream = make_deployment(engineer, make_adaptation(engineer, [adaptation], name="Atlas-pharma-rag"), "rag-bot")
    base = timezone.now().replace(microsecond=0) - dt.timedelta(days=20)
    occurred, aware, reported = base, base + dt.timedelta(hours=26), base + dt.timedelta(days=6, hours=3)
    incident = open_incident(
        reviewer,
        deployments=[deployment],
        occurred_at=occurred,
        aware_at=aware,
        harm_category="death",  # Art. 73(4): ten days
        description="The assistant advised a **tenfold** dose.",
        corrective_measures="Dose answers now quote the leaflet verbatim.",
        root_cause="Unit confusion (mg vs. g) in the retrieval index.",
    )
    log = attach(reviewer, incident, content=pdf_bytes("pharmacy log"), name="pharmacy-log.pdf")
    incidents.incident_report(incident=incident, actor=reviewer, reported_at=reported)
    incident.refresh_from_db()

    response = client_for(auditor).post(URL, {"kind": "incident_report", "incident": incident.pk}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["incident"] == incident.pk and queued == [(response.json()["id"],)]
    report = report_render(report_id=response.json()["id"])
    assert report.state == "succeeded", report.error
    download = client_for(auditor).get(f"{URL}{report.pk}/download/")
    assert download["Content-Disposition"].endswith(f'"fmgov-incident-{incident.pk}-report-{report.pk}.pdf"')
    data = b"".join(download.streaming_content)

    xmp = pdfcheck.xmp(data)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    text = " ".join(pdfcheck.text(data).split())
    assert f"Serious-incident report: incident #{incident.pk}" in text
    for heading in ("1. Reporter and provider", "2. AI system and models involved", "3. The incident",
                    "4. Regime and legal deadline", "5. Submission", "6. Corrective measures", "7. Root cause",
                    "8. Follow-up and record"):  # fmt: skip
        assert heading in text
    assert f"Occurred {stamp(occurred)}" in text
    assert f"Organisation aware {stamp(aware)}" in text
    assert f"Report due {stamp(aware + dt.timedelta(days=10))}" in text
    assert f"Submission date {stamp(reported)}" in text
    assert "10 days from awareness" in text and "EU AI Act Art. 73(4)" in text
    assert "Example Health GmbH" in text and "pharmacy-bot" in text and "rag-bot" in text
    assert "Unit confusion (mg vs. g)" in text and "Dose answers now quote the leaflet" in text
    assert "Overdue No" in text and "Report type initial report" in text

    evidence = pdfcheck.evidence(data)
    assert evidence["schema"] == "fmgov.report-evidence/1" and evidence["report"]["id"] == report.pk
    assert evidence["incident"] == {
        "id": incident.pk,
        "summary": incident.summary,
        "description": "The assistant advised a **tenfold** dose.",
        "occurred_at": format_timestamp(occurred),
        "aware_at": format_timestamp(aware),
        "harm_category": "death",
        "regime": "high_risk_art73",
        "regime_label": "High-risk AI system (EU AI Act Art. 73)",
        "deadline_days": 10,
        "deadline_source": "EU AI Act Art. 73(4)",
        "report_due_at": format_timestamp(aware + dt.timedelta(days=10)),
        "status": "reported",
        "report_type": "initial report",
        "reported_at": format_timestamp(reported),
        "overdue": False,
        "closed_at": None,
        "corrective_measures": "Dose answers now quote the leaflet verbatim.",
        "root_cause": "Unit confusion (mg vs. g) in the retrieval index.",
    }
    systems = evidence["systems"]
    assert [d["name"] for d in systems["deployments"]] == ["pharmacy-bot"]
    assert systems["deployments"][0]["target"]["digest"] == adaptation.artifact_digest
    assert [d["id"] for d in systems["affected_downstream"]] == [downstream.pk]
    assert evidence["reporter"]["providers"] == [] and evidence["reporter"]["opened_by"] == reviewer.username
    assert [(f["name"], f["sha256"]) for f in evidence["evidence_files"]] == [("pharmacy-log.pdf", log.sha256)]
    assert log.sha256 in pdfcheck.squeezed(data)
    actions = [e["action"] for e in evidence["audit_trail"]["events"]]
    assert actions == ["incident.open", "attachment.upload", "incident.report"]


def test_who_may_request_an_incident_report(client_for, engineer, other_engineer, reviewer, queued):
    mine = open_incident(engineer, deployments=[make_deployment(engineer, make_model(engineer))])
    body = {"kind": "incident_report", "incident": mine.pk}
    assert client_for(engineer).post(URL, body, format="json").status_code == 202
    refused = client_for(other_engineer).post(URL, body, format="json")
    assert refused.status_code == 403 and "incidents they opened" in refused.json()["detail"]
    assert client_for(reviewer).post(URL, body, format="json").status_code == 202
    own = Report.objects.filter(kind="incident_report").values_list("pk", flat=True)
    assert {r["id"] for r in client_for(engineer).get(URL).json()["results"]} == set(own)
    assert client_for(other_engineer).get(URL).json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "incident_report"}, "incident", "required for an incident report"),
        ({"kind": "incident_report", "incident": 999999}, "incident", "Invalid pk"),
        ({"kind": "incident_report", "incident": "{incident}", "period_start": "2026-11-01"}, "period_start",
         "about one incident"),
        ({"kind": "period_summary", "period_start": "2026-11-01", "period_end": "2026-11-30",
          "incident": "{incident}"}, "incident", "Only an incident report"),
        ({"kind": "downstream_information", "period_start": "2026-11-01", "period_end": "2026-11-30"},
         "foundation_model", "Name the foundation model or the adaptation"),
    ],
)  # fmt: skip
def test_a_bad_incident_report_request_is_a_400_naming_the_field(
    client_for, engineer, auditor, queued, body, field, message
):
    incident = open_incident(engineer, deployments=[make_deployment(engineer, make_model(engineer))])
    body = {k: incident.pk if v == "{incident}" else v for k, v in body.items()}
    response = client_for(auditor).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field] if field in response.json() else response.json())
    assert not queued
