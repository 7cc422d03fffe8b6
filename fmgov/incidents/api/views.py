"""The incident API: any role reads; engineers, reviewers and admins write through the services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.permissions import ReadAnyWriteNotAuditor
from fmgov.incidents import services
from fmgov.incidents.api.serializers import (
    IncidentDetailSerializer,
    IncidentOpenSerializer,
    IncidentReportSerializer,
    IncidentSerializer,
    IncidentUpdateSerializer,
)
from fmgov.incidents.selectors import incident_list

__all__ = ["IncidentViewSet"]

_REFUSALS = {400: OpenApiResponse(), 403: OpenApiResponse(), 409: OpenApiResponse()}


@extend_schema_view(
    list=extend_schema(summary="Serious incidents, newest awareness first, with their reporting clocks"),
    retrieve=extend_schema(summary="One incident, with the deployments its lineage affects"),
    create=extend_schema(
        summary="Open an incident; its report deadline follows the regime and harm category",
        request=IncidentOpenSerializer,
        responses={201: IncidentDetailSerializer, **_REFUSALS},
    ),
    partial_update=extend_schema(
        summary="Change what is known about an incident",
        request=IncidentUpdateSerializer,
        responses={200: IncidentDetailSerializer, **_REFUSALS},
    ),
)
class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ReadAnyWriteNotAuditor]
    http_method_names = ["get", "post", "patch", "head", "options"]
    serializer_class = IncidentSerializer
    filterset_fields = ["status", "regime", "harm_category"]
    ordering = ["-aware_at", "-id"]
    ordering_fields = ["id", "aware_at", "report_due_at", "created_at"]
    search_fields = ["summary"]

    def get_queryset(self):
        return incident_list()

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action != "list" else IncidentSerializer

    def _answer(self, incident, code: int = status.HTTP_200_OK) -> Response:
        return Response(IncidentDetailSerializer(incident_list().get(pk=incident.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        serializer = IncidentOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = services.incident_open(actor=request.user, **serializer.validated_data)
        return self._answer(incident, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        incident = self.get_object()
        serializer = IncidentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = services.incident_update(incident=incident, actor=request.user, **serializer.validated_data)
        return self._answer(incident)

    @extend_schema(
        summary="Confirm (reviewers, admins): suspend its deployments and revoke approvals down the lineage",
        request=None,
        responses={200: IncidentDetailSerializer, **_REFUSALS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        return self._answer(services.incident_confirm(incident=self.get_object(), actor=request.user))

    @extend_schema(
        summary="Record that it was reported to the authority; the clock stops",
        request=IncidentReportSerializer,
        responses={200: IncidentDetailSerializer, **_REFUSALS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def report(self, request, pk=None):
        incident = self.get_object()
        serializer = IncidentReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = services.incident_report(incident=incident, actor=request.user, **serializer.validated_data)
        return self._answer(incident)

    @extend_schema(
        summary="Move a reported incident to follow-up",
        request=None,
        responses={200: IncidentDetailSerializer, **_REFUSALS},
    )
    @action(detail=True, methods=["post"], url_path="follow-up", filter_backends=[])
    def follow_up(self, request, pk=None):
        return self._answer(services.incident_follow_up(incident=self.get_object(), actor=request.user))

    @extend_schema(
        summary="Close it, once root cause and corrective measures are recorded",
        request=None,
        responses={200: IncidentDetailSerializer, **_REFUSALS},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def close(self, request, pk=None):
        return self._answer(services.incident_close(incident=self.get_object(), actor=request.user))
