"""Report pages: request, htmx progress fragment, download, ownership refusals as messages, constant queries."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from reports.models import Report
from reports.services import report_render
from reports.tests.factories import make_deployment, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("reports.services.enqueue_on_commit", lambda task, *args: sent.append(args))
    return sent


@pytest.fixture
def deployment(engineer):
    return make_deployment(engineer, make_model(engineer), name="erin-bot")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_auditor_requests_a_dossier_watches_and_downloads(web, auditor, deployment, queued):
    client = web(auditor)
    response = client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": deployment.pk})
    report = Report.objects.get()
    assert response["Location"] == reverse("reports:report-detail", args=[report.pk])
    assert queued == [(report.pk,)]
    page = client.get(reverse("reports:report-detail", args=[report.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page
    fragment = client.get(reverse("reports:report-progress", args=[report.pk]), HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    report_render(report_id=report.pk)
    fragment = client.get(reverse("reports:report-progress", args=[report.pk])).content.decode()
    assert "hx-trigger" not in fragment  # final: polling stops
    report.refresh_from_db()
    assert report.sha256 in fragment and reverse("reports:report-download", args=[report.pk]) in fragment
    download = client.get(reverse("reports:report-download", args=[report.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    listing = client.get(reverse("reports:report-list")).content.decode()
    assert report.sha256[:10] in listing


def test_engineer_cannot_request_a_dossier_of_someone_elses_deployment(
    web, engineer, other_engineer, deployment, queued
):
    client = web(other_engineer)
    assert str(deployment) not in client.get(reverse("reports:report-list")).content.decode()
    response = client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": deployment.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Report.objects.exists() and queued == []
    assert str(deployment) in web(engineer).get(reverse("reports:report-list")).content.decode()


def test_period_summary_by_an_engineer_is_refused_as_a_message(web, engineer, queued):
    response = web(engineer).post(
        reverse("reports:report-list"),
        {"kind": "period_summary", "period_start": "2026-11-01", "period_end": "2026-11-30"},
    )
    assert response.status_code == 200
    assert any("Only auditors, reviewers and admins" in m for m in messages_of(response))
    assert not Report.objects.exists() and queued == []


def test_engineer_cannot_open_someone_elses_report(web, auditor, other_engineer, deployment, queued):
    web(auditor).post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": deployment.pk})
    report = Report.objects.get()
    response = web(other_engineer).get(reverse("reports:report-detail", args=[report.pk]))
    assert response.status_code == 302 and any("own deployments" in m for m in messages_of(response))
    response = web(other_engineer).get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 302


def test_download_before_rendering_is_refused_as_a_message(web, auditor, deployment, queued):
    web(auditor).post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": deployment.pk})
    report = Report.objects.get()
    response = web(auditor).get(reverse("reports:report-download", args=[report.pk]))
    assert response.status_code == 302 and any("only a succeeded report" in m for m in messages_of(response))


def test_period_summary_needs_both_days(web, auditor, queued):
    response = web(auditor).post(
        reverse("reports:report-list"), {"kind": "period_summary", "period_start": "2026-11-01"}
    )
    assert response.status_code == 200 and "Required for a period summary" in response.content.decode()
    assert not Report.objects.exists()


def test_report_list_queries_are_constant(web, auditor, deployment, queued, django_assert_max_num_queries):
    client = web(auditor)
    client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": deployment.pk})
    client.get(reverse("reports:report-list"))
    with django_assert_max_num_queries(8):
        client.get(reverse("reports:report-list"))
    for i in range(10):
        other = make_deployment(auditor, deployment.foundation_model, name=f"bot-{i}")
        client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": other.pk})
    with django_assert_max_num_queries(8):
        response = client.get(reverse("reports:report-list"))
    assert len(response.context["page"]) == 11
