"""The one way finding endpoints list, acknowledge and resolve findings.

Source apps keep their own routes (``/api/v1/findings/`` for evaluations,
``/api/v1/portfolio/findings/``) by subclassing ``FindingViewSetBase`` with
their source and their clients' response shape; the transitions are these.
A new source adds its own route the same way.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from fmgov.core.api.permissions import AnyRole
from fmgov.findings import selectors, services
from fmgov.findings.api import serializers as s
from fmgov.findings.models import Finding

__all__ = ["FindingViewSetBase"]


class FindingViewSetBase(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List, read, acknowledge and resolve the findings of one source (or of all, when ``source`` is None)."""

    source: str | None = None
    serializer_class = s.FindingSerializer
    permission_classes = [AnyRole]

    def get_queryset(self):
        return selectors.finding_list(source=self.source)

    def _respond(self, finding: Finding) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=finding.pk)).data)

    def _note(self, request) -> str:
        body = s.FindingNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data["note"]

    @extend_schema(request=s.FindingNoteSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        note = self._note(request)
        return self._respond(services.finding_acknowledge(finding=self.get_object(), actor=request.user, note=note))

    @extend_schema(request=s.FindingNoteSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        note = self._note(request)
        return self._respond(services.finding_resolve(finding=self.get_object(), actor=request.user, note=note))
