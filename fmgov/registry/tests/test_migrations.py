"""Migration 0003: FMGOV_CREDENTIAL_* names become registered credentials; other names leave a missing credential.

Runs the real migrations backwards to 0002 and forwards again on this
session's test database (a transactional test: migrations need their own
transactions), with deployments written through the historical models.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from audits.models import AuditEvent

BEFORE = [("registry", "0002_credentials_and_local_models")]
AFTER = [("registry", "0004_remove_deployment_endpoint_api_key_env")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Leave the session's database as every other test expects it: all migrations applied, other apps' too."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_legacy_names_are_registered_or_kept_as_missing(django_user_model):
    owner = django_user_model.objects.create(username="owner")
    apps = _migrate(BEFORE)
    try:
        Model = apps.get_model("registry", "FoundationModel")
        Deployment = apps.get_model("registry", "Deployment")
        model = Model.objects.create(name="m", provider="p", modality="text", access="api", owner_id=owner.pk)
        common = {"foundation_model_id": model.pk, "environment": "staging", "owner_id": owner.pk}
        good = Deployment.objects.create(
            name="good",
            endpoint_adapter="openai_chat",
            endpoint_base_url="https://llm.example.org:8443/v1",
            endpoint_api_key_env="FMGOV_CREDENTIAL_GATEWAY",
            status="approved",
            **common,
        )
        bad = Deployment.objects.create(
            name="bad",
            endpoint_adapter="openai_chat",
            endpoint_base_url="https://evil.example.org/v1",
            endpoint_api_key_env="DATABASE_URL",
            **common,
        )
    finally:
        apps = _migrate(AFTER)
    Deployment = apps.get_model("registry", "Deployment")
    Credential = apps.get_model("registry", "EndpointCredential")
    credential = Credential.objects.get()
    assert (credential.name, credential.source, credential.env_var) == ("gateway", "env", "FMGOV_CREDENTIAL_GATEWAY")
    assert credential.allowed_hosts == ["llm.example.org:8443"]
    good, bad = Deployment.objects.get(pk=good.pk), Deployment.objects.get(pk=bad.pk)
    assert good.endpoint_credential_id == credential.pk and good.status == "approved"  # the approval holds
    assert bad.endpoint_credential_id is None and bad.legacy_credential_name == "DATABASE_URL"
    events = AuditEvent.objects.filter(actor_system="migration:registry.0003").order_by("seq")
    assert [e.action for e in events] == [
        "credential.migrate",
        "deployment.credential_migrate",
        "deployment.credential_migrate",
    ]
    assert all(e.actor_id is None for e in events)
    assert events[0].changes["allowed_hosts"] == [None, ["llm.example.org:8443"]]
    assert events[2].changes["legacy_credential_name"] == ["", "DATABASE_URL"] and events[2].context["note"]
