"""Report download honours Accept: the PDF for application/pdf and */*, a JSON 406 for anything else."""

import hashlib

import pytest
from django.core.files.base import ContentFile

from audits.models import AuditEvent
from fmgov.core.testing.negotiation import accept_cases, assert_negotiated
from reports.choices import ReportKind, ReportState
from reports.models import Report
from reports.tests.factories import make_deployment, make_model

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% a stand-in for a rendered report\n%%EOF\n"


@pytest.fixture
def rendered(engineer, auditor) -> Report:
    """A succeeded dossier with a stored file (rendering itself is tested in test_rendering)."""
    deployment = make_deployment(engineer, make_model(engineer), name="erin-bot")
    report = Report(
        kind=ReportKind.DEPLOYMENT_DOSSIER,
        deployment=deployment,
        requested_by=auditor,
        state=ReportState.SUCCEEDED,
        sha256=hashlib.sha256(PDF).hexdigest(),
        size=len(PDF),
    )
    report.file.save("accept-test.pdf", ContentFile(PDF), save=False)
    report.save()
    return report


@pytest.mark.parametrize(("accept", "status"), accept_cases("application/pdf"))
def test_download_negotiates_on_accept(client_for, auditor, rendered, accept, status):
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    response = client_for(auditor).get(f"/api/v1/reports/{rendered.pk}/download/", **headers)
    assert_negotiated(response, "application/pdf", status)
    downloads = AuditEvent.objects.filter(action="report.download").count()
    if status == 200:
        assert b"".join(response.streaming_content) == PDF and downloads == 1
    else:
        assert downloads == 0  # refused before the view ran: nothing recorded as downloaded


def test_errors_at_the_download_are_json_whatever_was_accepted(client_for, engineer, other_engineer, rendered):
    accept = {"HTTP_ACCEPT": "application/pdf"}
    response = client_for(other_engineer).get(f"/api/v1/reports/{rendered.pk}/download/", **accept)
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert "own deployments" in response.json()["detail"]
    response = client_for(engineer).get("/api/v1/reports/999999/download/", **accept)
    assert response.status_code == 404 and response.json()["detail"] == "No such report."
