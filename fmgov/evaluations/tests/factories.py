"""Factories for evaluation tests: registry rows directly (one row each), suites through the service."""

import hashlib

import factory

from fmgov.evaluations import services
from fmgov.registry.choices import Access, AdaptationKind, EndpointAdapter, Environment, Modality
from fmgov.registry.lineage import lineage_parents_written
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FoundationModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FoundationModel

    name = factory.Sequence(lambda n: f"Eval-Model-{n}")
    version = "1"
    provider = "Acme AI"
    modality = Modality.TEXT
    access = Access.API
    artifact_digest = factory.LazyAttribute(lambda o: digest(f"{o.name}:{o.version}"))


class AdaptationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Adaptation

    name = factory.Sequence(lambda n: f"eval-adaptation-{n}")
    version = "1"
    kind = AdaptationKind.FINE_TUNE


def adaptation_of(parent, owner, **kwargs) -> Adaptation:
    """A child adaptation with one lineage edge to ``parent`` (a model or an adaptation)."""
    child = AdaptationFactory(owner=owner, **kwargs)
    if isinstance(parent, FoundationModel):
        AdaptationParent.objects.create(child=child, parent_model=parent)
    else:
        AdaptationParent.objects.create(child=child, parent_adaptation=parent)
    lineage_parents_written(child.pk)  # the stored roots, as the adaptation services keep them
    return child


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    name = factory.Sequence(lambda n: f"eval-deployment-{n}")
    foundation_model = factory.SubFactory(FoundationModelFactory, owner=factory.SelfAttribute("..owner"))
    environment = Environment.STAGING
    endpoint_adapter = EndpointAdapter.OPENAI_CHAT
    endpoint_base_url = "http://127.0.0.1:9/v1"
    endpoint_model = "fake-model"


def chat_deployment(owner, base_url: str, **kwargs) -> Deployment:
    return DeploymentFactory(owner=owner, endpoint_base_url=base_url, **kwargs)


def suite(actor, evaluator: str = "refusal_rate", name: str | None = None, **kwargs):
    suite.counter = getattr(suite, "counter", 0) + 1
    return services.suite_create(
        actor=actor, name=name or f"{evaluator} suite {suite.counter}", evaluator=evaluator, **kwargs
    )
