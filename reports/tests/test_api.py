"""The report API: who may request and download, and a 400 per field for bad requests."""

import datetime as dt

import pytest

from audits.models import AuditEvent
from reports.models import Report
from reports.services import report_render
from reports.tests.factories import make_deployment, make_model

URL = "/api/v1/reports/"


@pytest.fixture
def deployment(engineer):
    return make_deployment(engineer, make_model(engineer), name="erin-bot")


@pytest.fixture
def queued(monkeypatch):
    """Capture enqueued renders instead of sending them (these tests need no worker)."""
    sent = []
    monkeypatch.setattr("reports.services.enqueue_on_commit", lambda task, *args: sent.append(args))
    return sent


def dossier(deployment):
    return {"kind": "deployment_dossier", "deployment": deployment.pk}


PERIOD = {"kind": "period_summary", "period_start": "2026-11-01", "period_end": "2026-11-30"}


@pytest.mark.django_db
@pytest.mark.parametrize("role_fixture", ["auditor", "reviewer", "admin_user"])
def test_oversight_roles_request_both_kinds(request, role_fixture, client_for, deployment, queued):
    user = request.getfixturevalue(role_fixture)
    client = client_for(user)
    for body in (dossier(deployment), PERIOD):
        response = client.post(URL, body, format="json")
        assert response.status_code == 202, response.content
        assert response.json()["state"] == "queued" and response["Location"] == f"{URL}{response.json()['id']}/"
    assert len(queued) == 2
    events = AuditEvent.objects.filter(action="report.request", actor=user)
    assert events.count() == 2
    assert events.first().changes["kind"] == [None, "deployment_dossier"]


@pytest.mark.django_db
def test_engineer_requests_only_dossiers_of_own_deployments(client_for, engineer, other_engineer, deployment, queued):
    assert client_for(engineer).post(URL, dossier(deployment), format="json").status_code == 202
    response = client_for(other_engineer).post(URL, dossier(deployment), format="json")
    assert response.status_code == 403
    assert "own deployments" in response.json()["detail"]
    response = client_for(engineer).post(URL, PERIOD, format="json")
    assert response.status_code == 403 and "period summary" in response.json()["detail"]
    assert Report.objects.count() == 1 and len(queued) == 1


@pytest.mark.django_db
def test_a_user_without_a_role_is_refused(make_user, client_for, deployment, queued):
    response = client_for(make_user("nobody")).post(URL, dossier(deployment), format="json")
    assert response.status_code == 403 and "no role" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "kind", "required"),
        ({"kind": "memo"}, "kind", "not a valid choice"),
        ({"kind": "deployment_dossier"}, "deployment", "required for a deployment dossier"),
        ({"kind": "deployment_dossier", "deployment": 999999}, "deployment", "does not exist"),
        ({"kind": "deployment_dossier", "deployment": "abc"}, "deployment", "Incorrect type"),
        ({"kind": "period_summary", "period_end": "2026-11-30"}, "period_start", "required for a period summary"),
        ({"kind": "period_summary", "period_start": "2026-11-01"}, "period_end", "required for a period summary"),
        ({"kind": "period_summary", "period_start": "1 Nov", "period_end": "2026-11-30"}, "period_start", "format"),
        ({"kind": "period_summary", "period_start": "2026-11-30", "period_end": "2026-11-01"}, "period_end", "end on"),
        ({"kind": "period_summary", "period_start": "2010-01-01", "period_end": "2026-11-01"}, "period_end", "at most"),
    ],
)
def test_bad_requests_get_a_400_naming_the_field(client_for, auditor, body, field, message, queued):
    response = client_for(auditor).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])
    assert Report.objects.count() == 0 and queued == []


@pytest.mark.django_db
def test_period_fields_are_refused_on_a_dossier(client_for, auditor, deployment, queued):
    response = client_for(auditor).post(URL, {**dossier(deployment), "period_start": "2026-11-01"}, format="json")
    assert response.status_code == 400 and "no period" in response.json()["period_start"][0]


@pytest.mark.django_db
def test_status_list_and_download_respect_ownership(
    client_for, engineer, other_engineer, reviewer, auditor, deployment, queued
):
    own = client_for(engineer).post(URL, dossier(deployment), format="json").json()["id"]
    summary = client_for(auditor).post(URL, PERIOD, format="json").json()["id"]
    assert [r["id"] for r in client_for(engineer).get(URL).json()["results"]] == [own]
    assert {r["id"] for r in client_for(reviewer).get(URL).json()["results"]} == {own, summary}
    assert client_for(other_engineer).get(URL).json()["results"] == []
    response = client_for(other_engineer).get(f"{URL}{own}/")
    assert response.status_code == 403 and "own deployments" in response.json()["detail"]
    assert client_for(engineer).get(f"{URL}{summary}/").status_code == 403
    assert client_for(auditor).get(f"{URL}999999/").status_code == 404

    # Not rendered yet: 409, and nothing recorded as downloaded.
    response = client_for(engineer).get(f"{URL}{own}/download/")
    assert response.status_code == 409 and "queued" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="report.download").exists()

    report = report_render(report_id=own)  # in-process here; the worker path is in test_tasks
    assert report.state == "succeeded", report.error
    assert client_for(other_engineer).get(f"{URL}{own}/download/").status_code == 403
    response = client_for(engineer).get(f"{URL}{own}/download/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="fmgov-dossier-erin-bot-report-{own}.pdf"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF-") and len(body) == report.size
    event = AuditEvent.objects.get(action="report.download")
    assert event.actor == engineer and event.context["sha256"] == report.sha256 and event.changes == {}
    status = client_for(engineer).get(f"{URL}{own}/").json()
    assert status["download_url"].endswith(f"{URL}{own}/download/") and status["pages"] == report.pages


@pytest.mark.django_db
def test_period_summary_filename(client_for, auditor, queued):
    report_id = client_for(auditor).post(URL, PERIOD, format="json").json()["id"]
    report = Report.objects.get(pk=report_id)
    assert report.download_filename == f"fmgov-period-summary-20261101-20261130-report-{report_id}.pdf"
    assert report.period_end - report.period_start == dt.timedelta(days=29)
