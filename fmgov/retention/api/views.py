"""Retention API (admins only): each record class's period with a preview, and the purge itself."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.permissions import AdminOnly
from fmgov.retention.api.serializers import PurgeRequestSerializer, PurgeResultSerializer, RetentionClassSerializer
from fmgov.retention.conf import RECORD_CLASSES, SETTING_OF
from fmgov.retention.services import purge_candidates, purge_expired

__all__ = ["RetentionViewSet"]


class RetentionViewSet(viewsets.ViewSet):
    permission_classes = [AdminOnly]
    serializer_class = RetentionClassSerializer

    @extend_schema(summary="Retention period of each record class, and what a purge now would delete and keep")
    def list(self, request):
        rows = []
        for record_class in RECORD_CLASSES:
            preview = purge_candidates(record_class)
            rows.append({**preview, "setting": SETTING_OF[record_class], "expired": len(preview["expired"]),
                         "kept_bound": len(preview["kept_bound"])})  # fmt: skip
        return Response(RetentionClassSerializer(rows, many=True).data)

    @extend_schema(
        summary="Delete one record class's rows past their period (never what a current approval binds); audited",
        request=PurgeRequestSerializer,
        responses={200: PurgeResultSerializer, 400: OpenApiResponse(), 403: OpenApiResponse()},
    )
    @action(detail=False, methods=["post"])
    def purge(self, request):
        data = PurgeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = purge_expired(record_class=data.validated_data["record_class"], actor=request.user)
        return Response(PurgeResultSerializer(result).data)
