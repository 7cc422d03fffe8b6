"""Admin API for webhooks: endpoints, their delivery log, redelivery and secret rotation. Thin over services."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.permissions import AdminOnly
from fmgov.core.exceptions import InvalidInput
from fmgov.webhooks import services
from fmgov.webhooks.api.serializers import (
    RedeliverSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointCreatedSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookSecretSerializer,
)
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint

__all__ = ["WebhookEndpointViewSet", "WebhookDeliveryViewSet"]


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints (admins)"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    create=extend_schema(
        summary="Register a webhook endpoint; the answer carries its signing secret, this once",
        responses={201: WebhookEndpointCreatedSerializer},
    ),
    partial_update=extend_schema(
        summary="Change its URL, events or format, or switch it off or on",
        request=WebhookEndpointUpdateSerializer,
        responses=WebhookEndpointSerializer,
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Signed webhooks: fmgov POSTs audit-trail events to these receivers from its workers."""

    permission_classes = [AdminOnly]
    http_method_names = ["get", "post", "patch", "head", "options"]
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["active", "format"]
    ordering = ["id"]
    ordering_fields = ["id", "created_at", "updated_at"]
    search_fields = ["origin"]

    def get_queryset(self):
        return WebhookEndpoint.objects.select_related("created_by")

    def _answer(self, endpoint: WebhookEndpoint, code: int = status.HTTP_200_OK, **extra) -> Response:
        data = WebhookEndpointSerializer(self.get_queryset().get(pk=endpoint.pk)).data
        return Response({**data, **extra}, status=code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(actor=request.user, **serializer.validated_data)
        return self._answer(endpoint, status.HTTP_201_CREATED, secret=secret)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, actor=request.user, **serializer.validated_data)
        return self._answer(endpoint)

    @extend_schema(
        summary="Give the endpoint a new signing secret, shown this once",
        request=None,
        responses={200: WebhookSecretSerializer, 403: OpenApiResponse()},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", filter_backends=[])
    def rotate_secret(self, request, pk=None):
        endpoint, secret = services.webhook_endpoint_rotate_secret(endpoint=self.get_object(), actor=request.user)
        return Response({"id": endpoint.pk, "secret": secret})

    @extend_schema(
        summary="Send one of the endpoint's deliveries again, with the same delivery id",
        request=RedeliverSerializer,
        responses={202: WebhookDeliverySerializer, 403: OpenApiResponse(), 409: OpenApiResponse()},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def redeliver(self, request, pk=None):
        endpoint = self.get_object()
        serializer = RedeliverSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delivery = WebhookDelivery.objects.filter(endpoint=endpoint, pk=serializer.validated_data["delivery"]).first()
        if delivery is None:
            message = "No delivery of this endpoint has that id."
            raise InvalidInput(message, field_errors={"delivery": [message]})
        delivery = services.webhook_delivery_redeliver(delivery=delivery, actor=request.user)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(summary="An endpoint's delivery log, newest first (no response bodies are kept)")
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Status, attempts, latency and response code of each delivery to one endpoint."""

    permission_classes = [AdminOnly]
    serializer_class = WebhookDeliverySerializer
    filterset_fields = ["status", "event_type"]
    ordering = ["-created_at"]
    ordering_fields = ["created_at", "audit_seq"]
    search_fields = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no URL arguments
            return WebhookDelivery.objects.none()
        return WebhookDelivery.objects.filter(endpoint_id=self.kwargs["endpoint_pk"])

    def list(self, request, *args, **kwargs):
        get_object_or_404(WebhookEndpoint, pk=self.kwargs["endpoint_pk"])
        return super().list(request, *args, **kwargs)
