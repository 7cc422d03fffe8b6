"""Model adapters: one interface (``ModelAdapter``), one module per endpoint kind."""

from fmgov.evaluations.adapters.base import (
    AdapterError,
    Completion,
    EndpointConfig,
    EndpointUnusable,
    ModelAdapter,
    RetryPolicy,
)
from fmgov.registry.choices import ADAPTER_KINDS

__all__ = [
    "ADAPTERS",
    "AdapterError",
    "Completion",
    "EndpointConfig",
    "EndpointUnusable",
    "ModelAdapter",
    "RetryPolicy",
    "adapter_classes",
    "adapter_for_deployment",
    "build_adapter",
]


def adapter_classes() -> dict[str, type[ModelAdapter]]:
    """Kind -> adapter class, one for every kind in the registry's ``ADAPTER_KINDS`` (a kind without one fails here).

    Imported on first use: the local adapter's module is only needed by a worker that runs it.
    """
    from fmgov.evaluations.adapters.local_sentence_transformers import LocalSentenceTransformersAdapter
    from fmgov.evaluations.adapters.openai_chat import OpenAIChatAdapter
    from fmgov.evaluations.adapters.openai_embeddings import OpenAIEmbeddingsAdapter

    by_name = {cls.name: cls for cls in (OpenAIChatAdapter, OpenAIEmbeddingsAdapter, LocalSentenceTransformersAdapter)}
    return {kind: by_name[kind] for kind in ADAPTER_KINDS}


# The kinds evaluations can call: exactly the registry's table.
ADAPTERS = tuple(ADAPTER_KINDS)


def build_adapter(kind: str, config: EndpointConfig) -> ModelAdapter:
    if kind not in ADAPTER_KINDS:
        raise AdapterError(
            f"The deployment's endpoint adapter is {kind!r}; evaluations need one of {', '.join(ADAPTERS)}."
        )
    return adapter_classes()[kind](config)


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
