"""Registered artifacts are immutable (issue 15): once anything built on a version is approved or live, its
digest, licence and (adaptations) parents are fixed; a new version supersedes it. Descriptive text still changes.
"""

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.registry import services
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory, sha256

pytestmark = pytest.mark.django_db


def _approve(deployment):
    """Approval as the reviews app gives it (the review flow itself is tested in test_revisions)."""
    return services.deployment_approve(deployment=deployment, actor=None, system="test")


def _go_live(deployment, monkeypatch):
    monkeypatch.setattr("fmgov.registry.services.deployments.deployment_go_live_blocker", lambda d: None)
    _approve(deployment)
    return services.deployment_go_live(deployment=deployment, actor=deployment.owner)


def test_the_digest_of_a_model_under_a_live_deployment_is_409_and_a_superseding_version_works(
    engineer, client_for, monkeypatch
):
    model = FoundationModelFactory(owner=engineer, name="m", version="1", artifact_digest=sha256("v1"))
    _go_live(DeploymentFactory(owner=engineer, foundation_model=model), monkeypatch)
    client = client_for(engineer)
    url = f"/api/v1/foundation-models/{model.pk}/"

    response = client.patch(url, {"artifact_digest": sha256("v1-patched")}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert "register a new version that supersedes it" in body["detail"].lower()
    assert f'"supersedes": {model.pk}' in body["detail"] and "artifact_digest" in body
    assert client.patch(url, {"license": "other"}, format="json").status_code == 409
    model.refresh_from_db()
    assert model.artifact_digest == sha256("v1")

    # Descriptive text still changes, and is audited.
    assert client.patch(url, {"intended_uses": "Customer support only."}, format="json").status_code == 200
    assert AuditEvent.objects.filter(action="foundation_model.update", object_id=str(model.pk)).latest(
        "seq"
    ).changes == {"intended_uses": ["", "Customer support only."]}

    new = {"name": "m", "version": "2", "provider": "p", "modality": "text", "access": "open_weights"}
    response = client.post(
        "/api/v1/foundation-models/", {**new, "artifact_digest": sha256("v2"), "supersedes": model.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert FoundationModel.objects.get(pk=response.json()["id"]).supersedes_id == model.pk


def test_a_model_only_proposed_for_deployment_may_still_be_corrected(engineer):
    model = FoundationModelFactory(owner=engineer, artifact_digest=sha256("a"))
    DeploymentFactory(owner=engineer, foundation_model=model)
    services.foundation_model_update(foundation_model=model, actor=engineer, artifact_digest=sha256("b"))
    assert FoundationModel.objects.get(pk=model.pk).artifact_digest == sha256("b")


def test_an_approved_deployment_downstream_fixes_the_model_and_every_ancestor(engineer, other_engineer):
    model = FoundationModelFactory(owner=other_engineer, license="apache-2.0")
    middle = AdaptationFactory(owner=other_engineer, derived_from_models=[model.pk])
    leaf = AdaptationFactory(owner=engineer, derived_from_adaptations=[middle.pk])
    _approve(DeploymentFactory(owner=engineer, adaptation=leaf))
    with pytest.raises(Conflict, match="licence"):
        services.foundation_model_update(foundation_model=model, actor=other_engineer, license="proprietary")
    with pytest.raises(Conflict, match="artifact digest"):
        services.adaptation_update(adaptation=middle, actor=other_engineer, artifact_digest=sha256("x"))
    services.adaptation_update(adaptation=middle, actor=other_engineer, purpose="Now documented.")


def test_an_adaptations_parents_under_an_approved_deployment_are_409(engineer, client_for):
    base, other_base = FoundationModelFactory(owner=engineer), FoundationModelFactory(owner=engineer)
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[base.pk])
    _approve(DeploymentFactory(owner=engineer, adaptation=adaptation))
    url = f"/api/v1/adaptations/{adaptation.pk}/"
    client = client_for(engineer)
    response = client.patch(url, {"derived_from_models": [other_base.pk]}, format="json")
    assert response.status_code == 409 and "parents" in response.json()["detail"]
    # Adding a parent is a change of parents too; resending the same list is not.
    patch = {"derived_from_models": [base.pk, other_base.pk]}
    assert client.patch(url, patch, format="json").status_code == 409
    assert client.patch(url, {"derived_from_models": [base.pk]}, format="json").status_code == 200
    adaptation = Adaptation.objects.get(pk=adaptation.pk)
    assert adaptation.derived_from_models == [base.pk]

    response = client.post(
        "/api/v1/adaptations/",
        {
            "name": adaptation.name,
            "version": "2",
            "kind": "lora",
            "derived_from_models": [other_base.pk],
            "supersedes": adaptation.pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["supersedes"] == adaptation.pk


def test_an_adaptations_chain_of_versions_never_loops(engineer):
    first = AdaptationFactory(owner=engineer)
    second = AdaptationFactory(owner=engineer, supersedes=first)
    with pytest.raises(InvalidInput) as refused:
        services.adaptation_update(adaptation=first, actor=engineer, supersedes=second)
    assert refused.value.field_errors == {"supersedes": ["This would make the chain of versions a loop."]}
    with pytest.raises(InvalidInput):
        services.adaptation_update(adaptation=first, actor=engineer, supersedes=first)
