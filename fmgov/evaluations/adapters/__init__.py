"""Model adapters: one interface (``ModelAdapter``), one module per endpoint kind."""

from fmgov.evaluations.adapters.base import (
    AdapterError,
    Completion,
    EndpointConfig,
    EndpointUnusable,
    ModelAdapter,
    RetryPolicy,
)

__all__ = [
    "ADAPTERS",
    "AdapterError",
    "Completion",
    "EndpointConfig",
    "EndpointUnusable",
    "ModelAdapter",
    "RetryPolicy",
    "adapter_for_deployment",
    "build_adapter",
]


def _adapters() -> dict[str, type[ModelAdapter]]:
    from fmgov.evaluations.adapters.local_sentence_transformers import LocalSentenceTransformersAdapter
    from fmgov.evaluations.adapters.openai_chat import OpenAIChatAdapter
    from fmgov.evaluations.adapters.openai_embeddings import OpenAIEmbeddingsAdapter

    return {
        OpenAIChatAdapter.name: OpenAIChatAdapter,
        OpenAIEmbeddingsAdapter.name: OpenAIEmbeddingsAdapter,
        LocalSentenceTransformersAdapter.name: LocalSentenceTransformersAdapter,
    }


ADAPTERS = ("openai_chat", "openai_embeddings", "local_sentence_transformers")


def build_adapter(kind: str, config: EndpointConfig) -> ModelAdapter:
    adapters = _adapters()
    if kind not in adapters:
        raise AdapterError(
            f"The deployment's endpoint adapter is {kind!r}; evaluations need one of {', '.join(ADAPTERS)}."
        )
    return adapters[kind](config)


def adapter_for_deployment(deployment, *, concurrency: int = 4, suite_config: dict | None = None) -> ModelAdapter:
    """The adapter the deployment's endpoint description names, sized to the suite's concurrency.

    Runs in a worker: this is where a registered credential's value is resolved
    (env variable or sealed value), handed to the adapter with the hosts it may go to.
    """
    from fmgov.registry.credential_store import CredentialUnavailable, resolve_credential_value
    from fmgov.registry.endpoints import deployment_run_blocker

    suite_config = suite_config or {}
    blocker = deployment_run_blocker(deployment)
    if blocker and deployment.endpoint_adapter in ADAPTERS:
        raise AdapterError(f"The deployment cannot run: {blocker}")
    credential = deployment.endpoint_credential
    name, value, hosts = "", None, ()
    if credential is not None:
        try:
            value = resolve_credential_value(credential)
        except CredentialUnavailable as exc:
            raise AdapterError(str(exc)) from None
        name, hosts = credential.name, tuple(credential.allowed_hosts)
    config = EndpointConfig(
        base_url=deployment.endpoint_base_url,
        model=deployment.endpoint_model,
        credential_name=name,
        credential_value=value,
        credential_hosts=hosts,
        timeout_s=float(suite_config.get("request_timeout_s", 30)),
        concurrency=concurrency,
        extra={"model_path": suite_config.get("model_path", "")},
    )
    return build_adapter(deployment.endpoint_adapter, config)
