"""Django admin for the registry: pages render, saves go through the audited services, no deletes."""

import pytest
from django.test import Client

from audits.models import AuditEvent
from fmgov.registry import services
from fmgov.registry.models import FoundationModel
from fmgov.registry.tests.factories import (
    AdaptationFactory,
    DeploymentFactory,
    EndpointCredentialFactory,
    FoundationModelFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_admin_pages_render(admin_client_, engineer):
    model = FoundationModelFactory(owner=engineer)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[model.pk])
    deployment = DeploymentFactory(owner=engineer, adaptation=adaptation)
    for url in (
        "/admin/registry/foundationmodel/",
        "/admin/registry/adaptation/",
        "/admin/registry/deployment/",
        f"/admin/registry/foundationmodel/{model.pk}/change/",
        f"/admin/registry/adaptation/{adaptation.pk}/change/",
        f"/admin/registry/deployment/{deployment.pk}/change/",
        "/admin/registry/foundationmodel/add/",
        "/admin/registry/deployment/?status__exact=proposed",
    ):
        assert admin_client_.get(url).status_code == 200, url
    assert admin_client_.get(f"/admin/registry/deployment/{deployment.pk}/delete/").status_code == 403


def test_admin_add_goes_through_the_service(admin_client_, admin_user):
    response = admin_client_.post(
        "/admin/registry/foundationmodel/add/",
        {
            "name": "Phi-3 mini",
            "version": "4k-instruct",
            "provider": "Microsoft",
            "modality": "text",
            "access": "open_weights",
            "license": "mit",
            "parameter_count": "3821079552",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    model = FoundationModel.objects.get(name="Phi-3 mini")
    assert model.owner == admin_user
    event = AuditEvent.objects.get(action="foundation_model.create")
    assert event.actor == admin_user and event.changes["parameter_count"] == [None, 3821079552]


def test_admin_action_refusal_is_shown_not_applied(admin_client_, engineer):
    deployment = DeploymentFactory(owner=engineer)
    response = admin_client_.post(
        "/admin/registry/deployment/",
        {"action": "go_live", "_selected_action": [deployment.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Cannot go live" in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.status == "proposed"
    response = admin_client_.post(
        "/admin/registry/deployment/", {"action": "retire", "_selected_action": [deployment.pk]}, follow=True
    )
    deployment.refresh_from_db()
    assert deployment.status == "retired"
    assert AuditEvent.objects.filter(action="deployment.retire", object_id=str(deployment.pk)).exists()


def test_admin_edit_naming_a_deactivated_credential_is_refused(admin_client_, admin_user, engineer):
    deployment = DeploymentFactory(owner=engineer)
    credential = EndpointCredentialFactory()
    services.endpoint_credential_deactivate(credential=credential, actor=admin_user)
    url = f"/admin/registry/deployment/{deployment.pk}/change/"
    data = {
        "name": deployment.name,
        "foundation_model": deployment.foundation_model_id,
        "adaptation": "",
        "environment": "staging",
        "endpoint_adapter": "openai_chat",
        "endpoint_base_url": "https://llm.example.org/v1",
        "endpoint_model": "m",
        "endpoint_credential": credential.pk,
        "region": "eu-west-1",
    }
    response = admin_client_.post(url, data, follow=True)
    assert "is deactivated" in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.endpoint_credential is None
    assert not AuditEvent.objects.filter(action="deployment.update").exists()
