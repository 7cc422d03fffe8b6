"""A hand-built registry whose concentration figures are worked out by hand in the tests."""

from dataclasses import dataclass

from fmgov.registry.models import Deployment, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory


def set_status(deployment: Deployment, status: str) -> Deployment:
    """Tests of read-side arithmetic need live deployments without walking the review workflow."""
    deployment.status = status
    deployment.save(update_fields=["status"])
    return deployment


@dataclass
class Portfolio:
    a1: FoundationModel
    a2: FoundationModel
    b1: FoundationModel
    c1: FoundationModel
    live: list[Deployment]


def build_portfolio(owner) -> Portfolio:
    """Provider A: a1, a2; provider B: b1; provider C: c1 (never live).

    Live: d1 on a1, d2 on a2, d3 on b1 (staging), d4 on X (parents a1 and b1), d5 on Y (child of X).
    Not live: d6 on c1 (proposed), d7 on a1 (retired), d8 on c1 (suspended).
    """
    a1 = FoundationModelFactory(owner=owner, name="Alpha", version="1", provider="Provider A")
    a2 = FoundationModelFactory(owner=owner, name="Alpha", version="2", provider="Provider A")
    b1 = FoundationModelFactory(owner=owner, name="Beta", provider="Provider B")
    c1 = FoundationModelFactory(owner=owner, name="Gamma", provider="Provider C")
    x = AdaptationFactory(owner=owner, name="merge-x", derived_from_models=[a1.pk, b1.pk], kind="distillation")
    y = AdaptationFactory(owner=owner, name="rag-y", derived_from_adaptations=[x.pk], kind="rag_application")

    def deploy(name, environment="production", **target):
        return DeploymentFactory(owner=owner, name=name, environment=environment, **target)

    live = [
        deploy("d1", foundation_model=a1),
        deploy("d2", foundation_model=a2),
        deploy("d3", environment="staging", foundation_model=b1),
        deploy("d4", adaptation=x),
        deploy("d5", adaptation=y),
    ]
    for d in live:
        set_status(d, "live")
    deploy("d6", foundation_model=c1)
    set_status(deploy("d7", foundation_model=a1), "retired")
    set_status(deploy("d8", foundation_model=c1), "suspended")
    return Portfolio(a1, a2, b1, c1, live)
