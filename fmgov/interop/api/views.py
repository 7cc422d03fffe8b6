"""ML-BOM endpoints: thin views over the interop selectors, the BOM assembly and the import service.

The BOMs are served as ``application/vnd.cyclonedx+json`` (the default, and for
``*/*``) or ``application/json``; any other ``Accept`` gets a 406 naming both.
Errors are always plain JSON.
"""

import json
from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from fmgov.core.api.files import FileNegotiation, FileRenderer
from fmgov.core.api.parsers import SafeJSONParser
from fmgov.core.api.permissions import AnyRole, ReadAnyWriteEngineer
from fmgov.core.uploads import ensure_body_size
from fmgov.interop import bom, selectors, services
from fmgov.interop.api.serializers import BomImportResultSerializer
from fmgov.interop.reading import MAX_BOM_BYTES
from fmgov.interop.vocabulary import MEDIA_TYPE
from fmgov.registry.models import Deployment

__all__ = ["DeploymentBomView", "FoundationModelBomView", "PortfolioBomView", "BomImportView"]


class CycloneDXRenderer(FileRenderer):
    """The CycloneDX JSON media type; errors at these endpoints are answered as plain JSON (a file renderer)."""

    media_type = MEDIA_TYPE
    format = "cdx.json"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if isinstance(data, dict):
            return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return super().render(data, accepted_media_type, renderer_context)


class CycloneDXParser(SafeJSONParser):
    """A BOM posted with its own media type is JSON like any other (bounded the same way)."""

    media_type = MEDIA_TYPE


bom_schema = extend_schema(
    responses={
        (200, MEDIA_TYPE): OpenApiResponse(OpenApiTypes.OBJECT, description="A CycloneDX 1.6 ML-BOM."),
        (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="The same BOM as plain JSON."),
        404: OpenApiResponse(description="No such record."),
    }
)


class _BomView(APIView):
    permission_classes = [AnyRole]
    renderer_classes = [CycloneDXRenderer, JSONRenderer]
    content_negotiation_class = FileNegotiation
    filename = "ml-bom.cdx.json"

    def answer(self, document: dict[str, Any]) -> Response:
        response = Response(document)
        response["Content-Disposition"] = f'inline; filename="{self.filename}"'
        return response


class DeploymentBomView(_BomView):
    """What runs: the deployment, its target and every ancestor, its endpoint (no secrets) and its approval."""

    @bom_schema
    def get(self, request, pk: int):
        try:
            deployment = selectors.deployment_for_bom(pk)
        except Deployment.DoesNotExist:
            raise Http404 from None
        self.filename = f"deployment-{deployment.pk}.cdx.json"
        return self.answer(bom.deployment_bom(selectors.bom_source(deployments=[deployment])))


class FoundationModelBomView(_BomView):
    """One foundation model version with its model card, hashes, licence and supplier."""

    @bom_schema
    def get(self, request, pk: int):
        model = selectors.foundation_model_for_bom(pk)
        if model is None:
            raise Http404
        self.filename = f"foundation-model-{model.pk}.cdx.json"
        return self.answer(bom.foundation_model_bom(selectors.bom_source(deployments=[], model_ids={model.pk}), model))


class PortfolioBomView(_BomView):
    """Every live deployment with its lineage, endpoint and approval, in one BOM."""

    filename = "portfolio.cdx.json"

    @bom_schema
    def get(self, request):
        deployments = list(selectors.live_deployments())
        return self.answer(bom.portfolio_bom(selectors.bom_source(deployments=deployments)))


class BomImportView(APIView):
    """Register the models, adaptations and lineage a CycloneDX 1.5/1.6 BOM describes (idempotent by digest)."""

    permission_classes = [ReadAnyWriteEngineer]
    parser_classes = [SafeJSONParser, CycloneDXParser]
    max_body_bytes = MAX_BOM_BYTES

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, MEDIA_TYPE: OpenApiTypes.OBJECT},
        responses={
            201: BomImportResultSerializer,
            200: BomImportResultSerializer,
            400: OpenApiResponse(description="Not a valid CycloneDX 1.5/1.6 BOM; a message per field."),
            409: OpenApiResponse(description="A record with that digest holds other facts, or the lineage loops."),
            413: OpenApiResponse(description="The BOM is larger than 2 MiB."),
        },
    )
    def post(self, request):
        ensure_body_size(request, max_bytes=MAX_BOM_BYTES, field="bom")  # before the body is read
        results = services.ml_bom_import(actor=request.user, document=request.data)
        created = any(r.created for r in results)
        body = {"created": created, "records": [_record(r) for r in results]}
        return Response(
            BomImportResultSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def _record(result: services.BomImported) -> dict[str, Any]:
    record = result.record
    return {
        "bom_ref": result.bom_ref,
        "kind": result.kind,
        "id": record.pk,
        "name": record.name,
        "version": record.version,
        "artifact_digest": record.artifact_digest,
        "created": result.created,
    }
