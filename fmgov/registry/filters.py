"""List filters for the registry API (django-filter); search and ordering are DRF's."""

import django_filters

from fmgov.registry.choices import Access, AdaptationKind, DeploymentStatus, EndpointAdapter, Environment, Modality
from fmgov.registry.models import Adaptation, Deployment, FoundationModel

__all__ = ["FoundationModelFilter", "AdaptationFilter", "DeploymentFilter"]


class FoundationModelFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    provider = django_filters.CharFilter(lookup_expr="iexact")
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    license = django_filters.CharFilter(lookup_expr="iexact")
    access = django_filters.ChoiceFilter(choices=Access.choices)
    owner = django_filters.CharFilter(field_name="owner__username")
    hf_repo_id = django_filters.CharFilter(lookup_expr="iexact")
    released_after = django_filters.DateFilter(field_name="release_date", lookup_expr="gte")
    released_before = django_filters.DateFilter(field_name="release_date", lookup_expr="lte")

    class Meta:
        model = FoundationModel
        fields = ["name", "provider", "modality", "license", "access", "owner", "hf_repo_id"]


class AdaptationFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    kind = django_filters.ChoiceFilter(choices=AdaptationKind.choices)
    license = django_filters.CharFilter(lookup_expr="iexact")
    owner = django_filters.CharFilter(field_name="owner__username")
    hf_repo_id = django_filters.CharFilter(lookup_expr="iexact")
    # Direct parents only; GET .../descendants/ answers "at any depth".
    derived_from_model = django_filters.NumberFilter(field_name="parent_edges__parent_model")
    derived_from_adaptation = django_filters.NumberFilter(field_name="parent_edges__parent_adaptation")

    class Meta:
        model = Adaptation
        fields = ["name", "kind", "license", "owner", "hf_repo_id"]


class DeploymentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    status = django_filters.MultipleChoiceFilter(choices=DeploymentStatus.choices)
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    adapter = django_filters.ChoiceFilter(field_name="endpoint_adapter", choices=EndpointAdapter.choices)
    region = django_filters.CharFilter(lookup_expr="iexact")
    owner = django_filters.CharFilter(field_name="owner__username")
    foundation_model = django_filters.NumberFilter()
    adaptation = django_filters.NumberFilter()
    provider = django_filters.CharFilter(field_name="foundation_model__provider", lookup_expr="iexact")

    class Meta:
        model = Deployment
        fields = ["name", "status", "environment", "region", "owner", "foundation_model", "adaptation"]
