from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from fmgov.core.api.permissions import AdminWrites
from fmgov.findings.api.views import FindingViewSetBase
from fmgov.findings.choices import FindingSource, FindingState
from fmgov.findings.models import Finding
from fmgov.portfolio.api import serializers as s
from fmgov.portfolio.choices import PortfolioFindingKind
from fmgov.portfolio.selectors import concentration, footprint, portfolio_finding_list, portfolio_settings
from fmgov.portfolio.services import portfolio_settings_update


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


class PortfolioFindingFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(field_name="detail__kind", choices=PortfolioFindingKind.choices)
    status = filters.ChoiceFilter(field_name="state", choices=FindingState.choices)

    class Meta:
        model = Finding
        fields = ["kind", "status"]


class PortfolioFindingViewSet(FindingViewSetBase):
    """Concentration and single-point-of-failure findings; the findings services say who acknowledges, resolves."""

    source = FindingSource.PORTFOLIO
    serializer_class = s.PortfolioFindingSerializer
    filterset_class = PortfolioFindingFilter
    ordering_fields = ["created_at", "value"]

    def get_queryset(self):
        return portfolio_finding_list()


__all__ = ["ConcentrationView", "FootprintView", "PortfolioSettingsView", "PortfolioFindingViewSet"]
