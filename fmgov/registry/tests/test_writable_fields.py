"""Each entity's writable fields are declared once, in services; the API and the page forms offer exactly those."""

import pytest

from fmgov.registry import services
from fmgov.registry.api.serializers import (
    AdaptationSerializer,
    DeploymentSerializer,
    EndpointSerializer,
    FoundationModelSerializer,
)
from fmgov.registry.forms import AdaptationForm, DeploymentForm, FoundationModelForm


def _writable_sources(serializer) -> set[str]:
    """Model fields a serializer accepts, nested ``source="*"`` serializers flattened."""
    sources: set[str] = set()
    for name, field in serializer.fields.items():
        if field.read_only:
            continue
        if field.source == "*":
            sources |= _writable_sources(field)
        else:
            sources.add(field.source or name)
    return sources


@pytest.mark.parametrize(
    ("serializer", "declared"),
    [
        (FoundationModelSerializer(), set(services.FOUNDATION_MODEL_FIELDS) - services.IMPORT_ONLY_FIELDS),
        (
            AdaptationSerializer(),
            set(services.ADAPTATION_FIELDS) - services.IMPORT_ONLY_FIELDS | set(services.PARENT_KEYS),
        ),
        (DeploymentSerializer(), set(services.DEPLOYMENT_FIELDS)),
    ],
    ids=["foundation_model", "adaptation", "deployment"],
)
def test_api_accepts_exactly_the_service_fields(serializer, declared):
    assert _writable_sources(serializer) == declared


def test_the_nested_endpoint_maps_onto_the_endpoint_fields():
    assert _writable_sources(EndpointSerializer()) == set(services.DEPLOYMENT_ENDPOINT_FIELDS)
    assert "endpoint" in DeploymentSerializer().fields and "endpoint_adapter" not in DeploymentSerializer().fields


@pytest.mark.parametrize(
    ("form", "declared"),
    [
        (FoundationModelForm, set(services.FOUNDATION_MODEL_FIELDS) - services.IMPORT_ONLY_FIELDS - {"supersedes"}),
        (AdaptationForm, set(services.ADAPTATION_FIELDS) - services.IMPORT_ONLY_FIELDS - {"supersedes"}),
        (DeploymentForm, set(services.DEPLOYMENT_FIELDS)),
    ],
    ids=["foundation_model", "adaptation", "deployment"],
)
def test_forms_offer_the_service_fields(form, declared):
    assert set(form._meta.fields) == declared
    assert set(form._meta.fields) <= set(form.base_fields)
