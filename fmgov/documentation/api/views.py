"""The documentation API under a foundation model or an adaptation: read, save, versions, freeze.

Any role reads; auditors only read; which engineer may write which record is the service's decision.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from fmgov.core.api.permissions import ReadAnyWriteNotAuditor
from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.documentation import selectors, services
from fmgov.documentation.api.serializers import (
    DocumentationSerializer,
    DocumentationVersionListSerializer,
    DocumentationWriteSerializer,
)
from fmgov.documentation.models import DocumentationRecord
from fmgov.documentation.prefill import prefill
from fmgov.registry.models import Adaptation, FoundationModel

__all__ = ["documentation_views"]

_REFUSALS = {400: OpenApiResponse(), 403: OpenApiResponse(), 404: OpenApiResponse(), 409: OpenApiResponse()}


def _frozen(record: DocumentationRecord | None) -> dict | None:
    if record is None or not record.frozen_version_id:
        return None
    return {"version": record.frozen_version.number, "frozen_at": record.frozen_version.frozen_at}


def _answer(target, record: DocumentationRecord | None) -> dict:
    """The record's current version; with no record yet, a preview of what creating one would prefill."""
    if record is None:
        role, systemic, version, frozen_at = services.default_role(target), False, None, None
        fields, provenance = prefill(target)
    else:
        current = record.current_version
        role, systemic, version, frozen_at = record.role, record.systemic_risk, current.number, current.frozen_at
        fields, provenance = current.fields, current.provenance
    return {
        "target": {
            "kind": "adaptation" if isinstance(target, Adaptation) else "foundation_model",
            "id": target.pk,
            "name": target.name,
            "version": target.version,
        },
        "role": role,
        "systemic_risk": systemic,
        "fields": fields,
        "provenance": provenance,
        "version": version,
        "completeness": selectors.completeness(role, systemic, fields),
        "frozen_at": frozen_at,
        "last_frozen": _frozen(record),
        "attachments": selectors.latest_files_by_field(record),
    }


class _TargetView(APIView):
    permission_classes = [ReadAnyWriteNotAuditor]
    model: type[FoundationModel] | type[Adaptation] = FoundationModel

    def target(self, pk: int):
        return get_object_or_404(self.model, pk=pk)


class DocumentationView(_TargetView):
    @extend_schema(summary="The documentation record (or, before the first save, its prefilled preview)",
                   responses={200: DocumentationSerializer, 404: OpenApiResponse()})  # fmt: skip
    def get(self, request, pk: int):
        target = self.target(pk)
        return Response(_answer(target, selectors.record_for(target)))

    @extend_schema(
        summary="Save the named fields as a new version (the first save creates the record, prefilled)",
        description="Fields not named keep their value; null clears one. Nothing changed makes no new version. "
        "A bad name or value is a 400 naming each field.",
        request=DocumentationWriteSerializer,
        responses={200: DocumentationSerializer, 201: DocumentationSerializer, **_REFUSALS},
    )
    def put(self, request, pk: int):
        target = self.target(pk)
        body = request.data
        if not isinstance(body, dict):
            raise InvalidInput("Expected an object.", field_errors={"fields": ['Send {"fields": {name: value}}.']})
        given = {
            "fields": {} if body.get("fields") is None else body["fields"],
            "role": body.get("role"),
            "systemic_risk": body.get("systemic_risk"),
        }
        record = selectors.record_for(target)
        if record is None:
            services.documentation_create(target=target, actor=request.user, **given)
            code = status.HTTP_201_CREATED
        else:
            services.documentation_update(record=record, actor=request.user, **given)
            code = status.HTTP_200_OK
        return Response(_answer(target, selectors.record_for(target)), status=code)


class DocumentationVersionsView(_TargetView):
    @extend_schema(summary="Every version, newest first, each with its field-level diff from the one before",
                   responses={200: DocumentationVersionListSerializer, 404: OpenApiResponse()})  # fmt: skip
    def get(self, request, pk: int):
        record = selectors.record_for(self.target(pk))
        rows = selectors.versions_with_diffs(record) if record is not None else []
        return Response({"count": len(rows), "results": rows})


class DocumentationFreezeView(_TargetView):
    @extend_schema(summary="Freeze the current version: 'as submitted on' now; later edits make a new draft",
                   request=None, responses={200: DocumentationSerializer, **_REFUSALS})  # fmt: skip
    def post(self, request, pk: int):
        target = self.target(pk)
        record = selectors.record_for(target)
        if record is None:
            raise Conflict("There is nothing to freeze yet: save the documentation first.")
        services.documentation_freeze(record=record, actor=request.user)
        return Response(_answer(target, selectors.record_for(target)))


class DocumentationRefreshView(_TargetView):
    @extend_schema(
        summary="Prefill again from the registry, the lineage and the model card, as a new version",
        description="Entered values stay; derived ones follow their source. Nothing new makes no new version.",
        request=None,
        responses={200: DocumentationSerializer, **_REFUSALS},
    )
    def post(self, request, pk: int):
        target = self.target(pk)
        record = selectors.record_for(target)
        if record is None:
            raise Conflict("There is no record to refresh yet: save the documentation first (it is prefilled).")
        services.documentation_refresh(record=record, actor=request.user)
        return Response(_answer(target, selectors.record_for(target)))


def documentation_views(model) -> tuple[type[APIView], ...]:
    """The views bound to one kind of target (foundation model or adaptation), named for the schema."""
    prefix = model.__name__
    return tuple(
        type(f"{prefix}{base.__name__}", (base,), {"model": model})
        for base in (DocumentationView, DocumentationVersionsView, DocumentationFreezeView, DocumentationRefreshView)
    )
