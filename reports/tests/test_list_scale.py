"""The reports page stays small with many deployments: past a limit the form asks for the id (issue 18)."""

import pytest
from django.urls import reverse

from reports.forms import ReportRequestForm
from reports.models import Report
from reports.tests.factories import make_deployment, make_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr("reports.services.enqueue_on_commit", lambda task, *args: sent.append(args))
    return sent


def _page(client):
    response = client.get(reverse("reports:report-list"))
    assert response.status_code == 200
    return response.content.decode()


def test_many_deployments_are_asked_for_by_id_not_listed(client, auditor, queued, monkeypatch):
    monkeypatch.setattr(ReportRequestForm, "LISTED_DEPLOYMENTS", 3)
    model = make_model(auditor)
    deployments = [make_deployment(auditor, model, name=f"bot-{i}") for i in range(3)]
    client.force_login(auditor)
    listed = _page(client)
    assert all(f">{d}</option>" in listed for d in deployments)  # at the limit: still a list

    extra = make_deployment(auditor, model, name="bot-extra")
    page = _page(client)
    assert "<option" not in page.split('id="request"')[1].split("</form>")[0]
    assert 'type="number" name="deployment"' in page and "the id on the deployment&#x27;s page" in page
    response = client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": extra.pk})
    assert response.status_code == 302
    assert Report.objects.get().deployment == extra
    wrong = client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": 10**9})
    assert wrong.status_code == 200 and "Select a valid choice" in wrong.content.decode()


def test_an_engineer_past_the_limit_still_reports_only_on_their_own(client, engineer, other_engineer, monkeypatch):
    monkeypatch.setattr(ReportRequestForm, "LISTED_DEPLOYMENTS", 1)
    model = make_model(engineer)
    make_deployment(engineer, model, name="mine-1"), make_deployment(engineer, model, name="mine-2")
    theirs = make_deployment(other_engineer, model, name="theirs")
    client.force_login(engineer)
    assert 'type="number" name="deployment"' in _page(client)
    response = client.post(reverse("reports:report-list"), {"kind": "deployment_dossier", "deployment": theirs.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Report.objects.exists()


def test_report_page_queries_and_size_do_not_grow_with_the_deployments(
    client, auditor, django_assert_num_queries, monkeypatch
):
    monkeypatch.setattr(ReportRequestForm, "LISTED_DEPLOYMENTS", 5)
    model = make_model(auditor)
    for i in range(6):
        make_deployment(auditor, model, name=f"bot-{i}")
    client.force_login(auditor)
    _page(client)
    with django_assert_num_queries(5) as first:  # session, user, roles, the bounded count, the reports' count
        size = len(_page(client))
    for i in range(30):
        make_deployment(auditor, model, name=f"more-{i}")
    with django_assert_num_queries(len(first.captured_queries)):
        assert len(_page(client)) == size
