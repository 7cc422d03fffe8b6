"""Whether a deployment's endpoint can be called by a worker, and if not, why (for its page and API).

A deployment migrated from the old ``api_key_env`` with a variable outside
``FMGOV_CREDENTIAL_*`` has no credential until an admin registers one: it
stays in the registry, shown as not runnable, with the name it used to give.
"""

from fmgov.registry.choices import HTTP_ADAPTERS, EndpointAdapter
from fmgov.registry.models import Deployment, LocalModel

__all__ = ["active_local_model_names", "deployment_run_blocker"]


def active_local_model_names() -> set[str]:
    return set(LocalModel.objects.filter(active=True).values_list("name", flat=True))


def deployment_run_blocker(deployment: Deployment, *, local_models: set[str] | None = None) -> str | None:
    """Why a worker cannot call this deployment's endpoint, or None.

    A list passes ``local_models`` (``active_local_model_names()``) once, so rows cost no query each.
    """
    adapter = deployment.endpoint_adapter
    if adapter == EndpointAdapter.NONE:
        return "It has no endpoint adapter."
    if adapter in HTTP_ADAPTERS:
        credential = deployment.endpoint_credential
        if credential is None and deployment.legacy_credential_name:
            return (
                f"Its credential is missing: it used to read {deployment.legacy_credential_name}, which is not a "
                "registered credential. An admin registers one and names it on the deployment."
            )
        if credential is not None and not credential.active:
            return f"Its credential {credential.name} is deactivated."
        if not deployment.endpoint_base_url:
            return "It has no endpoint base URL."
    if adapter == EndpointAdapter.LOCAL_SENTENCE_TRANSFORMERS:
        names = active_local_model_names() if local_models is None else local_models
        if deployment.endpoint_model not in names:
            return f"Its local model {deployment.endpoint_model!r} is not registered (or is deactivated)."
    return None
