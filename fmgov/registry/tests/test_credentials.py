"""Endpoint credentials: admin-only, audited without the value, sealed so that web processes cannot read them.

The value is checked against every response body and every AuditEvent row
(``changes`` and ``context``), on whichever database the session runs.
"""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.registry import services
from fmgov.registry.credential_store import (
    CredentialUnavailable,
    generate_key_pair,
    resolve_credential_value,
    seal,
    unseal,
)
from fmgov.registry.models import EndpointCredential
from fmgov.registry.services.credentials import normalise_hosts
from fmgov.registry.tests.factories import DeploymentFactory, EndpointCredentialFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db

CREDENTIALS = "/api/v1/endpoint-credentials/"
DEPLOYMENTS = "/api/v1/deployments/"
VALUE = "sk-proj-Zq8vN3mR7tY2wK5pL9xB4cH6jD1fG0sA"


def _nothing_leaks(*bodies: str) -> None:
    for body in bodies:
        assert VALUE not in body
    for event in AuditEvent.objects.all():
        assert VALUE not in json.dumps(event.changes) and VALUE not in json.dumps(event.context)


def test_sealed_round_trip_and_web_settings_cannot_open():
    sealed = seal(VALUE, name="c")
    assert VALUE not in sealed and unseal(sealed, name="c") == VALUE
    web = override_settings(CREDENTIAL_PRIVATE_KEY="", CREDENTIAL_PRIVATE_KEY_FILE="")
    with pytest.raises(CredentialUnavailable, match="only workers"), web:
        unseal(sealed, name="c")
    with pytest.raises(CredentialUnavailable, match="does not open"):
        unseal(sealed, name="another-credential")  # the name is bound into the ciphertext
    other_private, _ = generate_key_pair()
    other = override_settings(CREDENTIAL_PRIVATE_KEY=other_private)
    with pytest.raises(CredentialUnavailable, match="does not open") as exc, other:
        unseal(sealed, name="c")
    assert VALUE not in str(exc.value)


def test_private_key_from_a_file(tmp_path, settings):
    private, public = generate_key_pair()
    key_file = tmp_path / "key"
    key_file.write_text(private)
    settings.CREDENTIAL_PRIVATE_KEY, settings.CREDENTIAL_PRIVATE_KEY_FILE = "", str(key_file)
    assert unseal(seal(VALUE, name="c", public_key=public), name="c") == VALUE


def test_env_resolver_reads_only_fmgov_credential_variables(monkeypatch, admin_user):
    credential = EndpointCredentialFactory(env_var="FMGOV_CREDENTIAL_T1")
    monkeypatch.setenv("FMGOV_CREDENTIAL_T1", VALUE)
    assert resolve_credential_value(credential) == VALUE
    credential.env_var = "DATABASE_URL"  # a row changed behind the services' back is still refused
    with pytest.raises(CredentialUnavailable, match="outside FMGOV_CREDENTIAL_"):
        resolve_credential_value(credential)
    monkeypatch.delenv("FMGOV_CREDENTIAL_T1")
    credential.env_var = "FMGOV_CREDENTIAL_T1"
    with pytest.raises(CredentialUnavailable, match="not set on this worker"):
        resolve_credential_value(credential)
    services.endpoint_credential_deactivate(credential=credential, actor=admin_user)
    credential.refresh_from_db()
    with pytest.raises(CredentialUnavailable, match="deactivated"):
        resolve_credential_value(credential)


@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "OPENAI_API_KEY", "fmgov_credential_x"])
def test_env_credentials_only_name_fmgov_credential_variables(admin_user, name):
    with pytest.raises(InvalidInput) as exc:
        services.endpoint_credential_create(
            actor=admin_user, name="c", source="env", env_var=name, allowed_hosts=["llm.example.org"]
        )
    assert "FMGOV_CREDENTIAL_" in exc.value.field_errors["env_var"][0]
    assert not EndpointCredential.objects.exists()


def test_hosts_are_checked_and_normalised():
    assert normalise_hosts(["LLM.example.org", "127.0.0.1:8080", "[::1]:9000", "llm.example.org"]) == [
        "llm.example.org",
        "127.0.0.1:8080",
        "[::1]:9000",
    ]
    for bad in ([], ["http://x.org"], ["x.org/path"], ["x.org:99999"], ["a b"], ["::1"]):
        with pytest.raises(InvalidInput) as exc:
            normalise_hosts(bad)
        assert "allowed_hosts" in exc.value.field_errors


def test_only_admins_change_credentials(engineer, admin_user):
    with pytest.raises(NotAllowed):
        services.endpoint_credential_create(
            actor=engineer, name="c", source="sealed", value=VALUE, allowed_hosts=["llm.example.org"]
        )
    credential = services.endpoint_credential_create(
        actor=admin_user, name="c", source="sealed", value=VALUE, allowed_hosts=["llm.example.org"]
    )
    for call in (
        lambda: services.endpoint_credential_update(credential=credential, actor=engineer, allowed_hosts=["x.org"]),
        lambda: services.endpoint_credential_deactivate(credential=credential, actor=engineer),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_rotation_and_host_change_are_audited_without_the_value(admin_user):
    credential = services.endpoint_credential_create(
        actor=admin_user, name="c", source="sealed", value=VALUE, allowed_hosts=["llm.example.org"]
    )
    first = EndpointCredential.objects.get(pk=credential.pk).sealed_value
    services.endpoint_credential_update(
        credential=credential, actor=admin_user, value=VALUE + "-2", allowed_hosts=["llm2.example.org"]
    )
    credential.refresh_from_db()
    assert credential.sealed_value != first and unseal(credential.sealed_value, name="c") == VALUE + "-2"
    update = AuditEvent.objects.get(action="credential.update")
    assert update.changes == {"allowed_hosts": [["llm.example.org"], ["llm2.example.org"]]}
    assert update.context["value_rotated"] is True
    create = AuditEvent.objects.get(action="credential.create")
    assert create.changes["value"] == [None, "set"] and "sealed_value" not in create.changes
    assert credential.sealed_value not in json.dumps(create.changes) + json.dumps(update.changes)
    assert VALUE not in repr(credential) and VALUE not in str(credential)
    _nothing_leaks()


def test_api_role_matrix_and_value_never_in_a_response(client_for, engineer, reviewer, auditor, admin_user):
    payload = {"name": "gateway", "source": "sealed", "value": VALUE, "allowed_hosts": ["llm.example.org"]}
    for user in (engineer, reviewer, auditor):
        client = client_for(user)
        assert client.post(CREDENTIALS, payload, format="json").status_code == 403
        assert client.get(CREDENTIALS).status_code == 403
    admin = client_for(admin_user)
    created = admin.post(CREDENTIALS, payload, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "gateway" and "value" not in created.json()
    pk = created.json()["id"]
    bodies = [created.content.decode()]
    bodies.append(admin.get(CREDENTIALS).content.decode())
    bodies.append(admin.get(f"{CREDENTIALS}{pk}/").content.decode())
    rotated = admin.patch(f"{CREDENTIALS}{pk}/", {"value": VALUE}, format="json")
    assert rotated.status_code == 200
    bodies.append(rotated.content.decode())
    assert client_for(engineer).patch(f"{CREDENTIALS}{pk}/", {"value": "x"}, format="json").status_code == 403
    # An engineer names the credential on a deployment; the deployment shows the name only.
    model = FoundationModelFactory(owner=engineer)
    endpoint = {"adapter": "openai_chat", "base_url": "https://llm.example.org/v1", "model": "m"}
    response = client_for(engineer).post(
        DEPLOYMENTS,
        {
            "name": "d",
            "foundation_model": model.pk,
            "environment": "staging",
            "endpoint": {**endpoint, "credential": "gateway"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["endpoint"]["credential"] == "gateway" and response.json()["endpoint"]["runnable"]
    bodies += [response.content.decode(), client_for(auditor).get(DEPLOYMENTS).content.decode()]
    deactivated = admin.post(f"{CREDENTIALS}{pk}/deactivate/")
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    shown = client_for(auditor).get(f"{DEPLOYMENTS}{response.json()['id']}/").json()["endpoint"]
    assert shown["runnable"] is False and "deactivated" in shown["blocker"]
    _nothing_leaks(*bodies, deactivated.content.decode())


def test_api_400s_per_field(client_for, admin_user, engineer):
    admin = client_for(admin_user)
    response = admin.post(
        CREDENTIALS,
        {"name": "e", "source": "env", "env_var": "DATABASE_URL", "allowed_hosts": ["x.org"]},
        format="json",
    )
    assert response.status_code == 400 and "env_var" in response.json()
    response = admin.post(CREDENTIALS, {"name": "s", "source": "sealed", "allowed_hosts": ["x.org"]}, format="json")
    assert response.status_code == 400 and "value" in response.json()
    response = admin.post(
        CREDENTIALS, {"name": "h", "source": "sealed", "value": VALUE, "allowed_hosts": ["http://x"]}, format="json"
    )
    assert response.status_code == 400 and "allowed_hosts" in response.json()
    assert VALUE not in response.content.decode()
    model = FoundationModelFactory(owner=engineer)
    endpoint = {"adapter": "openai_chat", "base_url": "https://llm.example.org/v1", "credential": "nobody-registered"}
    response = client_for(engineer).post(
        DEPLOYMENTS,
        {"name": "d", "foundation_model": model.pk, "environment": "staging", "endpoint": endpoint},
        format="json",
    )
    assert response.status_code == 400 and "credential" in response.json()["endpoint"]
    response = client_for(engineer).post(
        DEPLOYMENTS,
        {"name": "d", "foundation_model": model.pk, "environment": "staging", "api_key_env": "DATABASE_URL"},
        format="json",
    )
    assert response.status_code == 400
    assert "registered credential" in response.json()["endpoint"]["api_key_env"][0]


def test_deployment_page_shows_a_missing_credential(client, engineer):
    deployment = DeploymentFactory(owner=engineer)
    deployment.legacy_credential_name = "DATABASE_URL"  # as the migration leaves it
    deployment.save(update_fields=["legacy_credential_name"])
    client.force_login(engineer)
    text = client.get(reverse("registry:deployment-detail", args=[deployment.pk])).content.decode()
    assert "Cannot run" in text and "DATABASE_URL" in text and "credential is missing" in text
