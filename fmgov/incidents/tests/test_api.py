"""The incident API: 400 per field, 403 for the wrong role or owner, the clock and the lineage in the answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import AuditEvent
from fmgov.evaluations.tests.factories import DeploymentFactory, FoundationModelFactory, adaptation_of
from fmgov.incidents.models import Incident
from fmgov.incidents.tests.factories import open_incident

pytestmark = pytest.mark.django_db

INCIDENTS = "/api/v1/incidents/"


def _body(**overrides):
    now = timezone.now()
    body = {
        "summary": "Deepfake voice used to authorise a payment",
        "occurred_at": (now - timedelta(days=2)).isoformat(),
        "aware_at": (now - timedelta(days=1)).isoformat(),
        "regime": "high_risk_art73",
        "harm_category": "death",
    }
    return body | overrides


def test_open_answers_with_the_deadline_and_the_lineage(client_for, engineer):
    model = FoundationModelFactory(owner=engineer)
    mine = DeploymentFactory(owner=engineer, foundation_model=model)
    downstream = DeploymentFactory(owner=engineer, foundation_model=None, adaptation=adaptation_of(model, engineer))
    response = client_for(engineer).post(INCIDENTS, _body(deployments=[mine.pk]), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["deadline_days"] == 10 and "Art. 73(4)" in data["deadline_source"]
    assert data["status"] == "open" and data["opened_by"] == engineer.username
    assert 8 * 86400 < data["seconds_left"] <= 9 * 86400
    assert data["deployments"] == [mine.pk] and data["affected_deployments"] == sorted([mine.pk, downstream.pk])
    assert AuditEvent.objects.filter(action="incident.open", object_id=str(data["id"])).exists()


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"aware_at": "yesterday", "regime": "x"}, {"aware_at", "regime"}),
        ({"summary": ""}, {"summary"}),
        ({"harm_category": "paper_cut"}, {"harm_category"}),
        ({"deployments": [10**12]}, {"deployments"}),
        ({"deployments": []}, {"deployments"}),
        ({"occurred_at": (timezone.now() + timedelta(days=9)).isoformat()}, {"occurred_at"}),
    ],
)
def test_bad_input_is_a_400_per_field(client_for, engineer, overrides, fields):
    response = client_for(engineer).post(INCIDENTS, _body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert fields <= set(response.json())
    assert not Incident.objects.exists()


def test_an_engineer_cannot_open_on_or_suspend_another_engineers_deployment(client_for, engineer, other_engineer):
    theirs = DeploymentFactory(owner=other_engineer)
    client = client_for(engineer)
    assert client.post(INCIDENTS, _body(deployments=[theirs.pk]), format="json").status_code == 403
    assert client.post(INCIDENTS, _body(deployments=[theirs.pk], suspend=True), format="json").status_code == 403
    mine = DeploymentFactory(owner=engineer)
    assert client.post(INCIDENTS, _body(deployments=[mine.pk], suspend=True), format="json").status_code == 403
    assert not Incident.objects.exists()


def test_auditors_read_and_never_write(client_for, engineer, auditor, django_assert_max_num_queries):
    for _ in range(3):
        open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    client = client_for(auditor)
    with django_assert_max_num_queries(12):
        listed = client.get(INCIDENTS)
    assert listed.status_code == 200 and listed.json()["count"] == 3
    incident = Incident.objects.first()
    assert client.get(f"{INCIDENTS}{incident.pk}/").status_code == 200
    for response in (
        client.post(INCIDENTS, _body(), format="json"),
        client.patch(f"{INCIDENTS}{incident.pk}/", {"root_cause": "x"}, format="json"),
        client.post(f"{INCIDENTS}{incident.pk}/report/", {}, format="json"),
        client.post(f"{INCIDENTS}{incident.pk}/confirm/"),
    ):
        assert response.status_code == 403
    assert not AuditEvent.objects.filter(action__in=["incident.update", "incident.report"]).exists()


def test_the_workflow_over_the_api(client_for, engineer, other_engineer, reviewer):
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    url = f"{INCIDENTS}{incident.pk}/"
    mine, board = client_for(engineer), client_for(reviewer)
    assert client_for(other_engineer).patch(url, {"root_cause": "guess"}, format="json").status_code == 403
    assert mine.post(f"{url}confirm/").status_code == 403
    assert mine.post(f"{url}close/").status_code == 409
    late = (timezone.now() + timedelta(days=1)).isoformat()
    refused = mine.post(f"{url}report/", {"reported_at": late}, format="json")
    assert refused.status_code == 400 and "reported_at" in refused.json()
    patched = mine.patch(url, {"aware_at": "nonsense", "regime": "gpai_systemic_art55"}, format="json")
    assert patched.status_code == 400 and "aware_at" in patched.json()
    patched = mine.patch(url, {"regime": "gpai_systemic_art55"}, format="json")
    assert patched.status_code == 400 and "harm_category" in patched.json()
    patched = mine.patch(url, {"regime": "gpai_systemic_art55", "harm_category": "cybersecurity_breach"}, format="json")
    assert patched.status_code == 200 and patched.json()["deadline_days"] == 5
    reported = mine.post(f"{url}report/", {}, format="json")
    assert reported.status_code == 200 and reported.json()["reported_at"] and reported.json()["seconds_left"] is None
    assert board.post(f"{url}follow-up/").status_code == 200
    assert board.post(f"{url}close/").json()["root_cause"] == ["Fill this in before closing."]
    board.patch(url, {"root_cause": "Unfiltered tool output", "corrective_measures": "Filter"}, format="json")
    closed = board.post(f"{url}close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert board.post(f"{url}confirm/").status_code == 409
