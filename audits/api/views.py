from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audits.api.serializers import AuditEventSerializer, VerificationSerializer
from audits.filters import AuditEventFilter
from audits.selectors import audit_event_list, verify_chain
from fmgov.core.api.permissions import AuditorOrAdmin


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail, read-only, for auditors and admins."""

    serializer_class = AuditEventSerializer
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
