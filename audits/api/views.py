"""The audit-trail API: read-only events, chain verification, and the offline-verifiable export."""

import tempfile

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audits.api.serializers import AuditEventSerializer, PublicKeySerializer, VerificationSerializer
from audits.export import export_trail
from audits.filters import AuditEventFilter
from audits.pagination import TrailPagination
from audits.selectors import audit_event_list, verify_chain
from audits.signing import ALGORITHM, public_keys
from fmgov.core.api.files import JSONLinesRenderer, file_action
from fmgov.core.api.permissions import AuditorOrAdmin

# Exports up to this size stay in memory; a longer trail spills to a temporary file.
EXPORT_MEMORY_BYTES = 8 * 1024 * 1024


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, read-only, for auditors and admins."""

    serializer_class = AuditEventSerializer
    pagination_class = TrailPagination
    permission_classes = [AuditorOrAdmin]
    filterset_class = AuditEventFilter
    search_fields = ["object_repr", "action", "actor_username"]
    ordering_fields = ["seq", "timestamp"]
    lookup_field = "seq"

    def get_queryset(self):
        return audit_event_list()

    @extend_schema(responses=VerificationSerializer)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request):
        """Walk the chain and checkpoints; names the first bad sequence number."""
        return Response(VerificationSerializer(verify_chain().as_dict()).data)

    @extend_schema(responses=PublicKeySerializer(many=True))
    @action(detail=False, methods=["get"], url_path="public-keys", pagination_class=None, filter_backends=[])
    def public_keys(self, request):
        """The Ed25519 keys checkpoints are verified with, as configured; give them to verify_export.py."""
        keys = [{**vars(key), "algorithm": ALGORITHM} for key in public_keys()]
        return Response(PublicKeySerializer(keys, many=True).data)

    @extend_schema(
        responses={(200, JSONLinesRenderer.media_type): OpenApiResponse(description="The trail as JSON Lines")}
    )
    @file_action(JSONLinesRenderer, detail=False, pagination_class=None, filter_backends=[])
    def export(self, request):
        """The whole trail and its checkpoints as JSON Lines, for ``audits/verify_export.py`` offline."""
        buffer = tempfile.SpooledTemporaryFile(max_size=EXPORT_MEMORY_BYTES)  # noqa: SIM115  (FileResponse closes it)
        export_trail(buffer)
        buffer.seek(0)
        filename = f"fmgov-audit-trail-{timezone.now():%Y%m%dT%H%M%SZ}.jsonl"
        return FileResponse(buffer, as_attachment=True, filename=filename, content_type=JSONLinesRenderer.media_type)
