"""Approved means frozen (issue 15): an approved or live deployment's governed fields change only by a revision.

The revision is a proposed deployment that ``revises`` the current one; it is reviewed on its own, and its
go-live retires the current one and hands over schedules and open findings in the same transaction.
"""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed
from fmgov.evaluations import services as evaluation_services
from fmgov.evaluations.models import EvaluationSchedule
from fmgov.findings.choices import FindingSource, FindingState
from fmgov.findings.models import Finding
from fmgov.findings.services import finding_open, finding_resolve
from fmgov.registry import services
from fmgov.registry.choices import DeploymentStatus, EndpointAdapter
from fmgov.registry.governed import GOVERNED_FIELDS, governed_values
from fmgov.registry.models import Deployment
from fmgov.registry.services import DEPLOYMENT_FIELDS
from fmgov.registry.services import deployments as deployment_services
from fmgov.registry.tests.factories import DeploymentFactory
from fmgov.reviews.tests.factories import approve, submitted_review

pytestmark = pytest.mark.django_db
seed_migration = importlib.import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy")
OLD_URL, NEW_URL = "http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"


@pytest.fixture(autouse=True)
def _taxonomy(db):
    seed_migration.seed(apps, None)  # a transactional test elsewhere may have flushed the seeded rows


def chat_deployment(owner, **kwargs) -> Deployment:
    fields = {"endpoint_adapter": "openai_chat", "endpoint_base_url": OLD_URL, "endpoint_model": "m", "region": ""}
    return DeploymentFactory(owner=owner, **{**fields, **kwargs})


def approved(deployment: Deployment, reviewers) -> Deployment:
    """Through a real review: submitted by the owner, signed off by two reviewers."""
    review = submitted_review(author=deployment.owner, deployment=deployment)
    approve(review, *reviewers)
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.APPROVED
    return deployment


@pytest.fixture
def board(reviewer, other_reviewer):
    return (reviewer, other_reviewer)


@pytest.fixture
def live(engineer, board) -> Deployment:
    return services.deployment_go_live(deployment=approved(chat_deployment(engineer), board), actor=engineer)


def test_governed_fields_are_declared_once():
    assert set(GOVERNED_FIELDS) <= set(DEPLOYMENT_FIELDS)
    assert set(DEPLOYMENT_FIELDS) - set(GOVERNED_FIELDS) == {
        "name",
        "expected_requests_per_day",
        "expected_tokens_per_request",
    }


def test_patching_a_live_deployments_base_url_is_409(live, engineer, client_for):
    client = client_for(engineer)
    url = f"/api/v1/deployments/{live.pk}/"
    response = client.patch(url, {"endpoint": {"base_url": NEW_URL}}, format="json")
    assert response.status_code == 409
    assert f"POST /api/v1/deployments/{live.pk}/revisions/" in response.json()["detail"]
    assert response.json()["endpoint_base_url"] == ["Frozen while the deployment is approved or live."]
    # Filling a blank is a change too; resending what is stored and renaming are not governed changes.
    assert client.patch(url, {"region": "eu-west-1"}, format="json").status_code == 409
    assert client.patch(url, {"endpoint": {"base_url": OLD_URL}}, format="json").status_code == 200
    assert client.patch(url, {"name": "renamed"}, format="json").status_code == 200
    live.refresh_from_db()
    assert (live.endpoint_base_url, live.region, live.name, live.status) == (OLD_URL, "", "renamed", "live")
    assert not AuditEvent.objects.filter(action="deployment.update", changes__has_key="endpoint_base_url").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint_adapter": EndpointAdapter.OPENAI_EMBEDDINGS},
        {"endpoint_model": "other"},
        {"environment": "development"},
        {"adaptation": "new"},
    ],
    ids=["adapter", "model", "environment", "target"],
)
def test_every_governed_field_is_frozen_on_an_approved_deployment(engineer, board, change):
    deployment = approved(chat_deployment(engineer), board)
    if change.get("adaptation") == "new":
        from fmgov.registry.tests.factories import AdaptationFactory

        change = {"adaptation": AdaptationFactory(owner=engineer), "foundation_model": None}
    with pytest.raises(Conflict, match="Propose a change"):
        services.deployment_update(deployment=deployment, actor=engineer, **change)
    assert governed_values(Deployment.objects.get(pk=deployment.pk)) == governed_values(deployment)


def test_a_revision_goes_through_its_own_review_and_replaces_the_live_deployment(
    live, engineer, board, client_for, monkeypatch
):
    suite = evaluation_services.suite_create(actor=engineer, name="refusals", evaluator="refusal_rate")
    schedule = evaluation_services.schedule_create(actor=engineer, suite=suite, deployment=live, cron="0 3 * * *")
    finding, _ = finding_open(source=FindingSource.EVALUATION, subject=live, title="toxicity high", system="t")
    resolved, _ = finding_open(source=FindingSource.EVALUATION, subject=live, title="old", system="t")
    finding_resolve(finding=resolved, actor=board[0], note="fixed")
    client = client_for(engineer)

    response = client.post(
        f"/api/v1/deployments/{live.pk}/revisions/", {"endpoint": {"base_url": NEW_URL}}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["revises"], body["revised_by"]) == ("proposed", live.pk, None)
    assert body["endpoint"]["base_url"] == NEW_URL and body["name"] == live.name
    revision = Deployment.objects.get(pk=body["id"])
    assert revision.owner == engineer and revision.foundation_model_id == live.foundation_model_id
    assert AuditEvent.objects.get(action="deployment.propose_revision").context["revises"] == live.pk

    go_live = f"/api/v1/deployments/{revision.pk}/go-live/"
    assert client.post(go_live).status_code == 409  # no approval of its own yet
    approved(revision, board)

    # At every status write inside the go-live transaction, one of the two is live.
    seen = []
    real_record = deployment_services.audit_record

    def record_and_check(**kwargs):
        both = Deployment.objects.filter(pk__in=[live.pk, revision.pk], status=DeploymentStatus.LIVE)
        seen.append(sorted(both.values_list("pk", flat=True)))
        return real_record(**kwargs)

    monkeypatch.setattr(deployment_services, "audit_record", record_and_check)
    response = client.post(go_live)
    assert response.status_code == 200, response.json()
    assert seen == [sorted([live.pk, revision.pk]), [revision.pk]]  # the new one is live before the old retires

    live.refresh_from_db()
    revision.refresh_from_db()
    assert (live.status, revision.status) == (DeploymentStatus.RETIRED, DeploymentStatus.LIVE)
    schedule.refresh_from_db()
    finding.refresh_from_db()
    resolved.refresh_from_db()
    assert schedule.deployment_id == revision.pk and schedule.enabled
    assert schedule.periodic_task.description.endswith(str(revision))
    assert (finding.subject_id, finding.state) == (revision.pk, FindingState.OPEN)
    assert resolved.subject_id == live.pk  # closed work stays where it was done

    went_live = AuditEvent.objects.filter(action="deployment.go_live", object_id=str(revision.pk)).get()
    retired = AuditEvent.objects.filter(action="deployment.retire", object_id=str(live.pk)).get()
    assert went_live.context["revises"] == live.pk and went_live.seq < retired.seq
    assert retired.changes["status"] == ["live", "retired"]
    assert retired.context["revised_by"] == revision.pk
    assert retired.context["handed_over"] == {"findings": [finding.pk], "schedules": [schedule.pk], "incidents": []}
    assert AuditEvent.objects.filter(action="evaluation_schedule.move", object_id=str(schedule.pk)).exists()
    assert AuditEvent.objects.filter(action="finding.move_subject", object_id=str(finding.pk)).exists()
    old = client.get(f"/api/v1/deployments/{live.pk}/").json()
    assert (old["status"], old["revised_by"]) == ("retired", revision.pk)


def test_revision_input_is_validated_like_a_create(live, engineer, client_for):
    url = f"/api/v1/deployments/{live.pk}/revisions/"
    client = client_for(engineer)
    response = client.post(url, {"endpoint": {"base_url": "not a url"}}, format="json")
    assert response.status_code == 400 and "base_url" in response.json()["endpoint"]
    response = client.post(
        url, {"endpoint": {"adapter": "local_sentence_transformers", "model": "nope"}}, format="json"
    )
    assert response.status_code == 400 and "endpoint_model" in response.json()
    response = client.post(url, {"name": "just a new name"}, format="json")
    assert response.status_code == 400 and "governed field" in response.json()["detail"]
    assert client.post(url, {"region": "x" * 101}, format="json").status_code == 400
    assert client.post(url, {"environment": "moon"}, format="json").status_code == 400
    assert not Deployment.objects.filter(revises=live).exists()
    assert not AuditEvent.objects.filter(action="deployment.propose_revision").exists()


def test_who_may_propose_a_revision(live, engineer, other_engineer, reviewer, auditor, admin_user, client_for):
    url = f"/api/v1/deployments/{live.pk}/revisions/"
    change = {"region": "eu-west-1"}
    for outsider in (other_engineer, reviewer, auditor):
        assert client_for(outsider).post(url, change, format="json").status_code == 403
        with pytest.raises(NotAllowed):
            services.deployment_revision_create(deployment=live, actor=outsider, **change)
    response = client_for(admin_user).post(url, change, format="json")
    assert response.status_code == 201 and response.json()["owner"] == engineer.username
    # One open revision at a time.
    response = client_for(engineer).post(url, {"region": "us-east-1"}, format="json")
    assert response.status_code == 409 and "already has an open revision" in response.json()["detail"]


def test_only_an_approved_or_live_deployment_is_revised(engineer):
    proposed = chat_deployment(engineer)
    with pytest.raises(Conflict, match="edit it directly"):
        services.deployment_revision_create(deployment=proposed, actor=engineer, region="eu-west-1")
    services.deployment_retire(deployment=proposed, actor=engineer)
    with pytest.raises(Conflict, match="propose a new deployment"):
        services.deployment_revision_create(deployment=proposed, actor=engineer, region="eu-west-1")


def test_a_revision_of_a_deployment_retired_meanwhile_cannot_go_live(engineer, board):
    current = approved(chat_deployment(engineer), board)
    revision = services.deployment_revision_create(deployment=current, actor=engineer, region="eu-west-1")
    approved(revision, board)
    services.deployment_retire(deployment=current, actor=engineer, reason="withdrawn")
    with pytest.raises(Conflict, match="already retired"):
        services.deployment_go_live(deployment=revision, actor=engineer)
    revision.refresh_from_db()
    assert revision.status == DeploymentStatus.APPROVED


def test_a_schedule_the_revision_already_has_stays_and_the_old_one_is_switched_off(engineer, board):
    current = services.deployment_go_live(deployment=approved(chat_deployment(engineer), board), actor=engineer)
    revision = services.deployment_revision_create(deployment=current, actor=engineer, endpoint_base_url=NEW_URL)
    suite = evaluation_services.suite_create(actor=engineer, name="refusals", evaluator="refusal_rate")
    old = evaluation_services.schedule_create(actor=engineer, suite=suite, deployment=current, cron="0 3 * * *")
    own = evaluation_services.schedule_create(actor=engineer, suite=suite, deployment=revision, cron="0 4 * * *")
    approved(revision, board)
    services.deployment_go_live(deployment=revision, actor=engineer)
    old.refresh_from_db()
    own.refresh_from_db()
    assert (old.deployment_id, old.enabled, old.periodic_task.enabled) == (current.pk, False, False)
    assert (own.deployment_id, own.enabled) == (revision.pk, True)
    assert EvaluationSchedule.objects.filter(deployment=revision).count() == 1


def test_nothing_is_half_written_when_a_hand_over_fails(live, engineer, board, monkeypatch):
    revision = services.deployment_revision_create(deployment=live, actor=engineer, endpoint_base_url=NEW_URL)
    finding_open(source=FindingSource.EVALUATION, subject=live, title="open", system="t")
    approved(revision, board)

    def broken(old, new, actor):
        raise InvalidInput("boom")

    from fmgov.registry import hooks

    monkeypatch.setitem(hooks.DEPLOYMENT_HANDOVERS, "schedules", broken)
    with pytest.raises(InvalidInput):
        services.deployment_go_live(deployment=revision, actor=engineer)
    live.refresh_from_db()
    revision.refresh_from_db()
    assert (live.status, revision.status) == (DeploymentStatus.LIVE, DeploymentStatus.APPROVED)
    assert Finding.objects.get(title="open").subject_id == live.pk


# --- pages ---------------------------------------------------------------------------------------


def _page_form(deployment: Deployment, **changes) -> dict:
    data = {name: getattr(deployment, name) for name in DEPLOYMENT_FIELDS}
    data.update(changes)
    return {k: ("" if v is None else getattr(v, "pk", v)) for k, v in data.items()}


def test_the_page_offers_a_change_and_the_form_proposes_a_revision(live, engineer, other_engineer, client):
    client.force_login(engineer)
    page = client.get(reverse("registry:deployment-detail", args=[live.pk])).content.decode()
    revise = reverse("registry:deployment-revise", args=[live.pk])
    assert "Propose a change" in page and revise in page
    edit = client.get(reverse("registry:deployment-edit", args=[live.pk])).context["form"]
    assert all(edit.fields[name].disabled for name in GOVERNED_FIELDS) and not edit.fields["name"].disabled

    response = client.post(revise, _page_form(live, endpoint_base_url=NEW_URL))
    revision = Deployment.objects.get(revises=live)
    assert response.status_code == 302 and response["Location"] == reverse(
        "registry:deployment-detail", args=[revision.pk]
    )
    assert revision.endpoint_base_url == NEW_URL and revision.status == DeploymentStatus.PROPOSED
    page = client.get(response["Location"]).content.decode()
    assert "Revises" in page and reverse("registry:deployment-detail", args=[live.pk]) in page
    page = client.get(reverse("registry:deployment-detail", args=[live.pk])).content.decode()
    assert "Open revision" in page and "Propose a change</a>" not in page

    client.force_login(other_engineer)
    assert "Propose a change" not in client.get(reverse("registry:deployment-detail", args=[live.pk])).content.decode()
    response = client.post(revise, _page_form(live, region="us-east-1"))
    assert response.status_code == 302 and Deployment.objects.filter(revises=live).count() == 1


def test_the_revision_form_shows_refusals_on_its_fields(live, engineer, client):
    client.force_login(engineer)
    revise = reverse("registry:deployment-revise", args=[live.pk])
    response = client.post(revise, _page_form(live))
    assert response.status_code == 200 and "governed field" in response.content.decode()
    assert not Deployment.objects.filter(revises=live).exists()
    proposed = chat_deployment(engineer)
    assert (
        "Propose a change" not in client.get(reverse("registry:deployment-detail", args=[proposed.pk])).content.decode()
    )
