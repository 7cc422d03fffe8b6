"""Admin API for what workers may use: endpoint credentials and the local-model allow-list.

Thin viewsets over the services; nothing is deleted (a credential or a local
model is deactivated), and a credential's value is write-only: no response
carries it, sealed or not.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.permissions import AdminOnly
from fmgov.registry import services
from fmgov.registry.api.serializers import (
    EndpointCredentialSerializer,
    EndpointCredentialUpdateSerializer,
    LocalModelSerializer,
)
from fmgov.registry.models import EndpointCredential, LocalModel

__all__ = ["EndpointCredentialViewSet", "LocalModelViewSet"]

_READ_WRITE = ["get", "post", "patch", "head", "options"]


class _AdminViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [AdminOnly]
    http_method_names = _READ_WRITE
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]
    search_fields = ["name"]

    def _answer(self, obj, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data, status=code)


@extend_schema_view(
    list=extend_schema(summary="List endpoint credentials (admins)"),
    create=extend_schema(summary="Register an endpoint credential"),
    partial_update=extend_schema(
        summary="Change its hosts, its variable, or rotate its sealed value",
        request=EndpointCredentialUpdateSerializer,
        responses=EndpointCredentialSerializer,
    ),
)
class EndpointCredentialViewSet(_AdminViewSet):
    """Credentials deployments name; the workers send each only to its allowed hosts."""

    serializer_class = EndpointCredentialSerializer
    filterset_fields = ["source", "active"]

    def get_queryset(self):
        return EndpointCredential.objects.select_related("created_by")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = services.endpoint_credential_create(actor=request.user, **serializer.validated_data)
        return self._answer(credential, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        credential = self.get_object()
        serializer = EndpointCredentialUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credential = services.endpoint_credential_update(
            credential=credential, actor=request.user, **serializer.validated_data
        )
        return self._answer(credential)

    @extend_schema(request=None, responses={200: EndpointCredentialSerializer, 403: OpenApiResponse()})
    @action(detail=True, methods=["post"], filter_backends=[])
    def deactivate(self, request, pk=None):
        """Stop workers from using it; deployments naming it cannot run until re-pointed."""
        credential = services.endpoint_credential_deactivate(credential=self.get_object(), actor=request.user)
        return self._answer(credential)


class LocalModelUpdateSerializer(LocalModelSerializer):
    class Meta(LocalModelSerializer.Meta):
        read_only_fields = [*LocalModelSerializer.Meta.read_only_fields, "name"]


@extend_schema_view(
    list=extend_schema(summary="List the local models workers may load (admins)"),
    create=extend_schema(summary="Register a local model"),
    partial_update=extend_schema(request=LocalModelUpdateSerializer, responses=LocalModelSerializer),
)
class LocalModelViewSet(_AdminViewSet):
    """The allow-list of the local adapter: a package or a directory under LOCAL_MODELS_DIR."""

    serializer_class = LocalModelSerializer
    filterset_fields = ["active"]

    def get_queryset(self):
        return LocalModel.objects.select_related("created_by")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        local_model = services.local_model_create(actor=request.user, **serializer.validated_data)
        return self._answer(local_model, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        local_model = self.get_object()
        serializer = LocalModelUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        local_model = services.local_model_update(
            local_model=local_model, actor=request.user, **serializer.validated_data
        )
        return self._answer(local_model)

    @extend_schema(request=None, responses={200: LocalModelSerializer, 403: OpenApiResponse()})
    @action(detail=True, methods=["post"], filter_backends=[])
    def deactivate(self, request, pk=None):
        """Workers stop loading it."""
        local_model = services.local_model_deactivate(local_model=self.get_object(), actor=request.user)
        return self._answer(local_model)
