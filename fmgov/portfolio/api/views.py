from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from fmgov.core.api.permissions import AdminWrites, ReadAnyWriteEngineer, ReviewerOrAdmin
from fmgov.portfolio.api import serializers as s
from fmgov.portfolio.choices import PortfolioFindingStatus
from fmgov.portfolio.selectors import concentration, footprint, portfolio_finding_list, portfolio_settings
from fmgov.portfolio.services import portfolio_finding_transition, portfolio_settings_update


class ConcentrationView(APIView):
    """Provider and model shares of live deployments, the HHI with its band, and single points of failure."""

    permission_classes = [AdminWrites]

    @extend_schema(parameters=[s.ConcentrationQuerySerializer], responses=s.ConcentrationSerializer)
    def get(self, request):
        query = s.ConcentrationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(s.ConcentrationSerializer(concentration(query.validated_data.get("environment"))).data)


class FootprintView(APIView):
    """Training and estimated inference energy and emissions of what is live, over a period."""

    permission_classes = [AdminWrites]

    @extend_schema(parameters=[s.FootprintQuerySerializer], responses=s.FootprintSerializer)
    def get(self, request):
        query = s.FootprintQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(s.FootprintSerializer(footprint(**query.validated_data)).data)


class PortfolioSettingsView(APIView):
    """Alert thresholds; any role reads, admins change."""

    permission_classes = [AdminWrites]

    @extend_schema(responses=s.PortfolioSettingsSerializer)
    def get(self, request):
        return Response(s.PortfolioSettingsSerializer(portfolio_settings()).data)

    @extend_schema(request=s.PortfolioSettingsSerializer, responses=s.PortfolioSettingsSerializer)
    def patch(self, request):
        serializer = s.PortfolioSettingsSerializer(portfolio_settings(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        row = portfolio_settings_update(actor=request.user, **serializer.validated_data)
        return Response(s.PortfolioSettingsSerializer(row).data)


class FindingReviewers(ReviewerOrAdmin):
    message = "Only reviewers and admins may acknowledge or resolve portfolio findings."


class PortfolioFindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.PortfolioFindingSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at", "value"]

    def get_permissions(self):
        # Anyone reads; acknowledging and resolving is for reviewers and admins.
        if self.request.method in SAFE_METHODS:
            return [ReadAnyWriteEngineer()]
        return [FindingReviewers()]

    def get_queryset(self):
        return portfolio_finding_list()

    def _transition(self, request, status: str):
        body = s.FindingTransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        finding = portfolio_finding_transition(
            finding=self.get_object(), actor=request.user, status=status, note=body.validated_data.get("note", "")
        )
        return Response(s.PortfolioFindingSerializer(finding).data)

    @extend_schema(request=s.FindingTransitionSerializer, responses=s.PortfolioFindingSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, PortfolioFindingStatus.ACKNOWLEDGED)

    @extend_schema(request=s.FindingTransitionSerializer, responses=s.PortfolioFindingSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._transition(request, PortfolioFindingStatus.RESOLVED)


__all__ = ["ConcentrationView", "FootprintView", "PortfolioSettingsView", "PortfolioFindingViewSet"]
