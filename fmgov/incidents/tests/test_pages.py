"""Incident pages: report one through the form (the service's refusals on the fields), read its clock, act on it."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audits.models import AuditEvent
from fmgov.evaluations.tests.factories import DeploymentFactory
from fmgov.incidents.models import Incident
from fmgov.incidents.tests.factories import open_incident

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _when(delta: timedelta) -> str:
    return (timezone.now() - delta).strftime("%Y-%m-%dT%H:%M")


def _form(deployment, **overrides) -> dict:
    return {
        "summary": "Assistant advised stopping a medication",
        "description": "A nurse noticed it.",
        "occurred_at": _when(timedelta(hours=5)),
        "aware_at": _when(timedelta(hours=3)),
        "regime": "high_risk_art73",
        "harm_category": "death",
        "deployments": [str(deployment.pk)],
        **overrides,
    }


def test_an_engineer_reports_an_incident_on_their_deployment_and_sees_its_deadline(engineer):
    mine = DeploymentFactory(owner=engineer, name="triage-bot")
    client = _client(engineer)
    page = client.get("/incidents/new/").content.decode()
    assert "triage-bot" in page and "death: 10 days (EU AI Act Art. 73(4))" in page
    assert 'name="suspend"' not in page  # suspending is the board's call
    response = client.post("/incidents/new/", _form(mine), follow=True)
    incident = Incident.objects.get()
    assert response.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    assert incident.deadline_days == 10 and list(incident.deployments.all()) == [mine]
    page = response.content.decode()
    assert "EU AI Act Art. 73(4)" in page
    assert f"{incident.report_due_at:%Y-%m-%d %H:%M} UTC" in page
    assert "1\xa0week, 2\xa0days left" in page  # ten days from an awareness three hours ago
    assert AuditEvent.objects.filter(action="incident.open", object_id=str(incident.pk)).exists()


def test_the_services_refusals_show_on_the_fields(engineer, make_user):
    other = DeploymentFactory(owner=make_user("olga", "engineer"), name="olgas-bot")
    mine = DeploymentFactory(owner=engineer, name="triage-bot")
    client = _client(engineer)
    assert "olgas-bot" not in client.get("/incidents/new/").content.decode()  # not offered
    page = client.post("/incidents/new/", _form(other)).content.decode()  # named anyway
    assert 'id="id_deployments_error"' in page
    assert "Engineers open incidents on their own deployments and models only" in page
    # A category the regime does not configure: the service names the ones it does, on that field.
    page = client.post(
        "/incidents/new/", _form(mine, regime="gpai_systemic_art55", harm_category="widespread_infringement")
    ).content.decode()
    assert "Under gpai_systemic_art55, one of" in page
    page = client.post("/incidents/new/", _form(mine, aware_at=_when(timedelta(hours=6)))).content.decode()
    assert "The organisation cannot have become aware before the incident occurred." in page
    assert not Incident.objects.exists()


def test_a_reviewer_confirms_reports_follows_up_and_closes(engineer, reviewer):
    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(engineer, deployments=[deployment])
    client = _client(reviewer)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    for label in ("Confirm and suspend what it involves", "Mark reported to the authority"):
        assert label in page
    client.post(f"/incidents/{incident.pk}/confirm/")
    incident.refresh_from_db()
    assert incident.confirmed_by == reviewer
    client.post(f"/incidents/{incident.pk}/report/", {"reported_at": ""})
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.reported_at is not None
    assert "reported in time" in client.get(f"/incidents/{incident.pk}/").content.decode()
    client.post(f"/incidents/{incident.pk}/follow-up/")
    page = client.post(f"/incidents/{incident.pk}/close/", follow=True).content.decode()
    assert "Fill this in before closing." in page
    incident.refresh_from_db()
    assert incident.status == "follow_up"
    client.post(
        f"/incidents/{incident.pk}/measures/", {"corrective_measures": "Prompt fixed.", "root_cause": "Bad RAG."}
    )
    client.post(f"/incidents/{incident.pk}/close/")
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.root_cause == "Bad RAG."


def test_readers_see_the_list_and_clock_but_no_actions(engineer, auditor):
    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(engineer, deployments=[deployment], summary="Leaked a record")
    client = _client(auditor)
    page = client.get("/").content.decode()
    assert 'href="/incidents/"' in page  # in the navigation
    assert f'href="/incidents/{incident.pk}/"' in page  # the dashboard's clock links to it
    page = client.get("/incidents/").content.decode()
    assert f"#{incident.pk} Leaked a record" in page and "left" in page
    assert "Report a serious incident" not in page
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "EU AI Act Art. 73(2)" in page and "Mark reported" not in page
    assert client.post(f"/incidents/{incident.pk}/report/").status_code == 403
    assert client.get("/incidents/new/").status_code == 403
    assert Incident.objects.get().status == "open"


def test_the_page_says_when_the_clock_ran_out(engineer, reviewer):
    incident = open_incident(
        reviewer,
        deployments=[DeploymentFactory(owner=engineer)],
        harm_category="widespread_infringement",
        aware_ago=timedelta(days=2, hours=3),
    )
    page = _client(reviewer).get(f"/incidents/{incident.pk}/").content.decode()
    assert "overdue by 3\xa0hours" in page and "EU AI Act Art. 73(3)" in page


def test_a_reviewer_may_suspend_at_once_and_a_future_report_date_is_refused(engineer, reviewer):
    deployment = DeploymentFactory(owner=engineer, status="live")
    client = _client(reviewer)
    assert 'name="suspend"' in client.get("/incidents/new/").content.decode()
    client.post("/incidents/new/", _form(deployment, suspend="on"))
    incident = Incident.objects.get()
    deployment.refresh_from_db()
    assert incident.confirmed_by == reviewer and deployment.status == "suspended"
    page = client.post(
        f"/incidents/{incident.pk}/report/", {"reported_at": _when(-timedelta(days=1))}, follow=True
    ).content.decode()
    assert "A past time with a time zone." in page
    incident.refresh_from_db()
    assert incident.status == "open" and incident.reported_at is None


def test_the_list_runs_the_same_queries_however_many_incidents(engineer, reviewer, django_assert_max_num_queries):
    deployment = DeploymentFactory(owner=engineer)
    open_incident(reviewer, deployments=[deployment])
    client = _client(reviewer)
    client.get("/incidents/")
    with django_assert_max_num_queries(20) as few:
        client.get("/incidents/")
    for i in range(8):
        open_incident(reviewer, deployments=[deployment], summary=f"Incident {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/incidents/").content.decode()
    assert all(f"Incident {i}</a>" in page for i in range(8))
