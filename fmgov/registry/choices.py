"""Choices, the table of endpoint adapter kinds and the deployment status transition table."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Modality(models.TextChoices):
    TEXT = "text", _("Text")
    IMAGE = "image", _("Image")
    AUDIO = "audio", _("Audio")
    VIDEO = "video", _("Video")
    MULTIMODAL = "multimodal", _("Multimodal")
    CODE = "code", _("Code")
    EMBEDDING = "embedding", _("Embedding")


class Access(models.TextChoices):
    OPEN_WEIGHTS = "open_weights", _("Open weights")
    API = "api", _("API")
    CLOSED = "closed", _("Closed")


class AdaptationKind(models.TextChoices):
    FINE_TUNE = "fine_tune", _("Fine-tune")
    LORA = "lora", _("LoRA adapter")
    RLHF = "rlhf", _("RLHF")
    DISTILLATION = "distillation", _("Distillation")
    QUANTIZATION = "quantization", _("Quantisation")
    RAG_APPLICATION = "rag_application", _("RAG application")
    PROMPT_TEMPLATE = "prompt_template", _("Prompt template")
    OTHER = "other", _("Other")


class Environment(models.TextChoices):
    DEVELOPMENT = "development", _("Development")
    STAGING = "staging", _("Staging")
    PRODUCTION = "production", _("Production")


class EndpointAdapter(models.TextChoices):
    NONE = "none", _("None")
    OPENAI_CHAT = "openai_chat", _("OpenAI-compatible chat completions")
    OPENAI_EMBEDDINGS = "openai_embeddings", _("OpenAI-compatible embeddings")
    LOCAL_SENTENCE_TRANSFORMERS = "local_sentence_transformers", _("Local sentence-transformers model")


@dataclass(frozen=True)
class AdapterKind:
    """What an adapter offers: the capability evaluators ask for (their ``needs``) and whether it calls HTTP."""

    capability: str  # "chat" or "embeddings"
    http: bool  # calls an HTTP endpoint, and so may carry a registered credential


# The one table of adapter kinds a worker can call (every EndpointAdapter but NONE); the rest is derived from it.
ADAPTER_KINDS: dict[str, AdapterKind] = {
    EndpointAdapter.OPENAI_CHAT: AdapterKind(capability="chat", http=True),
    EndpointAdapter.OPENAI_EMBEDDINGS: AdapterKind(capability="embeddings", http=True),
    EndpointAdapter.LOCAL_SENTENCE_TRANSFORMERS: AdapterKind(capability="embeddings", http=False),
}

# Adapters that call an HTTP endpoint (and so may carry a credential).
HTTP_ADAPTERS = frozenset(kind for kind, spec in ADAPTER_KINDS.items() if spec.http)


def adapters_with(capability: str) -> tuple[str, ...]:
    """The adapter kinds that serve an evaluator needing ``capability``, in declaration order."""
    return tuple(kind for kind, spec in ADAPTER_KINDS.items() if spec.capability == capability)


class DeploymentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    LIVE = "live", _("Live")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", _("Retired")


# Allowed status changes. "approved" is reached only through a review's sign-off
# (from proposed, or from suspended when a new review is approved), and an
# approval withdrawn (revocation, expiry) returns the deployment to "proposed"
# (or "suspended" if it was live).
DEPLOYMENT_TRANSITIONS: dict[str, set[str]] = {
    DeploymentStatus.PROPOSED: {DeploymentStatus.APPROVED, DeploymentStatus.RETIRED},
    DeploymentStatus.APPROVED: {DeploymentStatus.LIVE, DeploymentStatus.PROPOSED, DeploymentStatus.RETIRED},
    DeploymentStatus.LIVE: {DeploymentStatus.SUSPENDED, DeploymentStatus.RETIRED},
    DeploymentStatus.SUSPENDED: {
        DeploymentStatus.LIVE,
        DeploymentStatus.APPROVED,
        DeploymentStatus.PROPOSED,
        DeploymentStatus.RETIRED,
    },
    DeploymentStatus.RETIRED: set(),
}


class CredentialSource(models.TextChoices):
    ENV = "env", _("Worker environment variable (FMGOV_CREDENTIAL_*)")
    SEALED = "sealed", _("Value sealed to the workers' public key")
