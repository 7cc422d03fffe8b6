"""Registry API: thin viewsets that parse, call a service or selector, and shape the answer.

Nothing is deleted through the API: a governance record is retired, not erased.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audits.cached_reads import CachedReadsMixin
from fmgov.core.api.files import MarkdownRenderer, file_action
from fmgov.core.api.permissions import IsOwnerOrAdminForWrites, ReadAnyWriteEngineer
from fmgov.core.uploads import MULTIPART_SLACK_BYTES, ensure_body_size
from fmgov.registry import selectors, services
from fmgov.registry.api.serializers import (
    AdaptationSerializer,
    AncestorSerializer,
    DeploymentSerializer,
    DescendantSerializer,
    FoundationModelSerializer,
    ModelCardImportResultSerializer,
    ModelCardImportSerializer,
    ReasonSerializer,
)
from fmgov.registry.filters import AdaptationFilter, DeploymentFilter, FoundationModelFilter
from fmgov.registry.model_cards import MAX_CARD_BYTES, render_model_card
from fmgov.registry.models import Adaptation, FoundationModel

WRITE_METHODS = ["get", "post", "put", "patch", "head", "options"]
LINEAGE_ACTIONS = {"descendants", "lineage", "model_card"}


def _lineage_page(view, rows, serializer_class) -> Response:
    """One page of a lineage listing, paginated like every list endpoint (``page``, ``page_size``).

    A root model can have a hundred thousand descendants: the answer is never all of them at once.
    """
    page = view.paginate_queryset(rows)
    return view.get_paginated_response(serializer_class(page, many=True).data)


def _markdown(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type=f"{MarkdownRenderer.media_type}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# A serializer with many=True (not an OpenApiResponse) so the schema shows the page and its parameters.
lineage_schema = extend_schema(responses=DescendantSerializer(many=True))
card_schema = extend_schema(responses={(200, MarkdownRenderer.media_type): OpenApiTypes.STR})


class _ServiceViewSet(CachedReadsMixin, viewsets.ModelViewSet):
    """Create and update go through services; serializers only validate; lists and details are cached under the
    trail head (every field comes from audited models)."""

    permission_classes = [ReadAnyWriteEngineer, IsOwnerOrAdminForWrites]
    http_method_names = WRITE_METHODS
    create_service = None
    update_service = None
    instance_kwarg = ""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = type(self).create_service(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self._reload(obj)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        obj = type(self).update_service(
            **{self.instance_kwarg: instance}, actor=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(self._reload(obj)).data)

    def _reload(self, obj):
        return self.get_queryset().get(pk=obj.pk)


@extend_schema_view(
    list=extend_schema(summary="List foundation models"),
    create=extend_schema(summary="Register a foundation model version"),
)
class FoundationModelViewSet(_ServiceViewSet):
    """Foundation models: everyone reads; engineers register and edit their own, admins any."""

    serializer_class = FoundationModelSerializer
    filterset_class = FoundationModelFilter
    search_fields = ["name", "provider", "hf_repo_id"]
    ordering_fields = ["name", "version", "provider", "release_date", "parameter_count", "created_at", "updated_at"]
    ordering = ["name", "version"]
    create_service = staticmethod(services.foundation_model_create)
    update_service = staticmethod(services.foundation_model_update)
    instance_kwarg = "foundation_model"

    def get_queryset(self):
        if self.action in LINEAGE_ACTIONS:
            return FoundationModel.objects.all()
        return selectors.foundation_model_list()

    @lineage_schema
    @action(detail=True, methods=["get"], filter_backends=[])
    def descendants(self, request, pk=None):
        """Everything built on this model, at any depth: 'what depends on this model?'. Nearest first, then by id."""
        model = self.get_object()
        page = self.paginate_queryset(selectors.model_descendant_rows(model_id=model.pk))
        rows = selectors.descendant_columns(page)
        return self.get_paginated_response(DescendantSerializer(rows, many=True).data)

    @card_schema
    @file_action(MarkdownRenderer, detail=True, url_path="model-card", filter_backends=[])
    def model_card(self, request, pk=None):
        """The model's card as a Hugging Face README.md (YAML front matter + Markdown)."""
        model = self.get_object()
        return _markdown(render_model_card(model), "README.md")

    @extend_schema(
        request={"application/json": ModelCardImportSerializer, "multipart/form-data": ModelCardImportSerializer},
        responses={201: ModelCardImportResultSerializer, 200: ModelCardImportResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import-model-card", filter_backends=[])
    def import_model_card(self, request):
        """Create or update a model (or an adaptation of a registered base) from a Hugging Face card."""
        ensure_body_size(request, max_bytes=MAX_CARD_BYTES + MULTIPART_SLACK_BYTES, field="file")  # before reading
        serializer = ModelCardImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.model_card_import(actor=request.user, **serializer.validated_data)
        if result.kind == "adaptation":
            record = AdaptationSerializer(selectors.adaptation_list().get(pk=result.record.pk)).data
        else:
            record = FoundationModelSerializer(selectors.foundation_model_list().get(pk=result.record.pk)).data
        body = {
            "kind": result.kind,
            "created": result.created,
            "unresolved_base_models": result.unresolved_base_models,
            "record": record,
        }
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class AdaptationViewSet(_ServiceViewSet):
    """Adaptations and their lineage; an edit that would make a cycle is refused (400)."""

    serializer_class = AdaptationSerializer
    filterset_class = AdaptationFilter
    search_fields = ["name", "hf_repo_id"]
    ordering_fields = ["name", "version", "kind", "created_at", "updated_at"]
    ordering = ["name", "version"]
    create_service = staticmethod(services.adaptation_create)
    update_service = staticmethod(services.adaptation_update)
    instance_kwarg = "adaptation"

    def get_queryset(self):
        if self.action in LINEAGE_ACTIONS:  # only the row is needed, not its list shape
            return Adaptation.objects.all()
        return selectors.adaptation_list()

    @lineage_schema
    @action(detail=True, methods=["get"], filter_backends=[])
    def descendants(self, request, pk=None):
        """Everything built on this adaptation, at any depth. Nearest first, then by name and version."""
        adaptation = self.get_object()
        rows = selectors.descendant_adaptations(adaptation_id=adaptation.pk)
        return _lineage_page(self, rows, DescendantSerializer)

    @extend_schema(responses=AncestorSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def lineage(self, request, pk=None):
        """Every ancestor up to the foundation models, each with its depth, nearest first; paginated."""
        adaptation = self.get_object()
        return _lineage_page(self, selectors.adaptation_lineage(adaptation_id=adaptation.pk), AncestorSerializer)

    @card_schema
    @file_action(MarkdownRenderer, detail=True, url_path="model-card", filter_backends=[])
    def model_card(self, request, pk=None):
        """The adaptation's card, with ``base_model`` naming its parents."""
        adaptation = self.get_object()
        parents = list(selectors.foundation_model_list().filter(child_edges__child=adaptation)) + list(
            selectors.adaptation_list().filter(child_edges__child=adaptation)
        )
        base_models = [p.hf_repo_id or p.name for p in parents]
        return _markdown(render_model_card(adaptation, base_models=base_models), "README.md")


class DeploymentViewSet(_ServiceViewSet):
    """Deployments; status changes are the go-live / suspend / retire actions, never field edits.

    An approved or live deployment's governed fields are frozen (PATCH → 409); ``revisions`` proposes a change.
    """

    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilter
    search_fields = ["name", "region", "endpoint_model"]
    ordering_fields = ["name", "environment", "status", "created_at", "updated_at", "went_live_at"]
    ordering = ["-created_at"]
    create_service = staticmethod(services.deployment_create)
    update_service = staticmethod(services.deployment_update)
    instance_kwarg = "deployment"

    def get_queryset(self):
        return selectors.deployment_revision_list()

    def _transition(self, request, service, **kwargs) -> Response:
        deployment = self.get_object()
        deployment = service(deployment=deployment, actor=request.user, **kwargs)
        return Response(self.get_serializer(self._reload(deployment)).data)

    @extend_schema(request=None, responses={200: DeploymentSerializer, 409: OpenApiResponse(description="Refused")})
    @action(detail=True, methods=["post"], url_path="go-live", filter_backends=[])
    def go_live(self, request, pk=None):
        """Put an approved deployment live; refused (409) without a valid approved risk review."""
        return self._transition(request, services.deployment_go_live)

    @extend_schema(request=ReasonSerializer, responses={200: DeploymentSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"], filter_backends=[])
    def suspend(self, request, pk=None):
        """Take a live deployment out of service."""
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        return self._transition(request, services.deployment_suspend, reason=reason.validated_data["reason"])

    @extend_schema(
        request=DeploymentSerializer(partial=True),
        responses={201: DeploymentSerializer, 409: OpenApiResponse(description="Not approved or live, or refused")},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def revisions(self, request, pk=None):
        """Propose a change of an approved or live deployment's governed fields.

        Creates a proposed deployment that ``revises`` this one: this one's description with the changes given
        (validated like a create). It needs its own approved review; its go-live retires this one and moves the
        evaluation schedules and open findings to it.
        """
        deployment = self.get_object()
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        revision = services.deployment_revision_create(
            deployment=deployment, actor=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(self._reload(revision)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonSerializer, responses={200: DeploymentSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"], filter_backends=[])
    def retire(self, request, pk=None):
        """Close a deployment for good."""
        reason = ReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        return self._transition(request, services.deployment_retire, reason=reason.validated_data["reason"])
