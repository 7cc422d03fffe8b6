"""The evidence API: list and upload files on a review, a risk item, an incident or a documentation field; read and
download one.

Reading is open to every role, like the parents; uploading is the parent's writers' (the service decides).
The body's declared size is checked before it is parsed, so a 26 MB upload is refused with 413 unread.
"""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from fmgov.core.api.files import FileRenderer, file_action
from fmgov.core.api.parsers import SafeMultiPartParser
from fmgov.core.api.permissions import AnyRole
from fmgov.core.exceptions import Conflict, InvalidInput
from fmgov.core.uploads import MULTIPART_SLACK_BYTES, PayloadTooLarge, ensure_body_size
from fmgov.documentation.fields import FIELDS as DOCUMENTATION_FIELDS
from fmgov.documentation.selectors import record_for
from fmgov.evidence import conf, services
from fmgov.evidence.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    DocumentationAttachmentUploadSerializer,
)
from fmgov.evidence.models import Attachment
from fmgov.evidence.selectors import attachment_list, attachments_of, documentation_attachments
from fmgov.incidents.models import Incident
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.reviews.models import ReviewItem, RiskReview

__all__ = [
    "ReviewAttachmentViewSet",
    "ReviewItemAttachmentViewSet",
    "IncidentAttachmentViewSet",
    "FoundationModelDocumentationAttachmentViewSet",
    "AdaptationDocumentationAttachmentViewSet",
    "AttachmentViewSet",
]

_REFUSALS = {
    400: OpenApiResponse(description="A field is invalid"),
    403: OpenApiResponse(description="Not one of the parent's writers"),
    409: OpenApiResponse(description="The parent no longer accepts files (an approved review, a closed incident)"),
    413: OpenApiResponse(description="The file is larger than EVIDENCE_MAX_UPLOAD_BYTES"),
    415: OpenApiResponse(description="The file's content is not an accepted type"),
}


class OctetStreamRenderer(FileRenderer):
    """The stored bytes, whatever their detected type."""

    media_type = "application/octet-stream"
    format = "bin"


class _ParentAttachmentViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AttachmentSerializer
    permission_classes = [AnyRole]
    parser_classes = [SafeMultiPartParser]
    pagination_class = None
    filter_backends: list = []

    @property
    def max_body_bytes(self) -> int:
        return conf.max_upload_bytes() + MULTIPART_SLACK_BYTES

    def get_parent(self):  # pragma: no cover - each subclass names its parent
        raise NotImplementedError

    def scope(self) -> dict:  # pragma: no cover
        raise NotImplementedError

    def upload_parent(self, parent, validated: dict):
        """The parent an upload goes to: the URL's (a documentation upload also names its field in the form)."""
        return parent

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        self.get_parent()  # 404 for a parent that does not exist
        return attachments_of(**self.scope())

    upload_serializer_class = AttachmentUploadSerializer

    def create(self, request, *args, **kwargs):
        try:
            ensure_body_size(request, max_bytes=self.max_body_bytes, field="file")  # before the body is read
        except PayloadTooLarge as exc:
            limit = conf.max_upload_bytes()
            message = (
                f"Evidence files are accepted up to {limit // (1024 * 1024)} MB ({limit} bytes); {exc.detail['detail']}"
            )
            raise PayloadTooLarge({"detail": message, "file": [message]}) from None
        parent = self.get_parent()
        data = self.upload_serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        parent = self.upload_parent(parent, data.validated_data)
        attachment = services.attachment_upload(
            actor=request.user, parent=parent, upload=data.validated_data.pop("file"), **data.validated_data
        )
        body = AttachmentSerializer(attachment_list().get(pk=attachment.pk)).data
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": f"/api/v1/attachments/{attachment.pk}/"}
        )


_UPLOAD_SCHEMA = extend_schema(
    summary="Attach a file (multipart); the same name again is a new revision",
    request={"multipart/form-data": AttachmentUploadSerializer},
    responses={201: AttachmentSerializer, **_REFUSALS},
)


class ReviewAttachmentViewSet(_ParentAttachmentViewSet):
    """Files on a risk review. On a submitted review an upload voids its sign-offs; on an approved one, 409."""

    def get_parent(self) -> RiskReview:
        return get_object_or_404(RiskReview.objects.select_related("deployment"), pk=self.kwargs["review_pk"])

    def scope(self) -> dict:
        return {"review_id": int(self.kwargs["review_pk"])}

    @_UPLOAD_SCHEMA
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class ReviewItemAttachmentViewSet(_ParentAttachmentViewSet):
    """Files on a risk item; they count in its review's content hash like the review's own."""

    def get_parent(self) -> ReviewItem:
        return get_object_or_404(
            ReviewItem.objects.select_related("review__deployment"),
            pk=self.kwargs["item_pk"],
            review_id=self.kwargs["review_pk"],
        )

    def scope(self) -> dict:
        return {"item_id": int(self.kwargs["item_pk"])}

    @_UPLOAD_SCHEMA
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class IncidentAttachmentViewSet(_ParentAttachmentViewSet):
    """Files on a serious incident; a closed incident takes no more."""

    def get_parent(self) -> Incident:
        return get_object_or_404(Incident, pk=self.kwargs["incident_pk"])

    def scope(self) -> dict:
        return {"incident_id": int(self.kwargs["incident_pk"])}

    @_UPLOAD_SCHEMA
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class _DocumentationAttachmentViewSet(_ParentAttachmentViewSet):
    """Files on the fields of a foundation model's or adaptation's documentation record.

    Writers are the record's editors (an engineer for what they own, reviewers and admins any; auditors read). The
    record must exist (save the documentation first: 409). A frozen version does not stop an upload: the file is on
    the record and belongs to the next draft; the frozen version is unchanged.
    """

    model: type[FoundationModel] | type[Adaptation] = FoundationModel
    upload_serializer_class = DocumentationAttachmentUploadSerializer

    def get_parent(self):
        return get_object_or_404(self.model, pk=self.kwargs["target_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Attachment.objects.none()
        field = self.request.query_params.get("field") or None
        if field is not None and field not in DOCUMENTATION_FIELDS:
            message = f"{field!r} is not a documentation field; use a field name from the catalogue."
            raise InvalidInput(message, field_errors={"field": [message]})
        record = record_for(self.get_parent())
        if record is None:
            return Attachment.objects.none()
        return documentation_attachments(record.pk, field)

    def upload_parent(self, parent, validated: dict) -> services.DocumentationField:
        record = record_for(parent)
        if record is None:
            raise Conflict("This has no documentation record yet: save the documentation first, then attach files.")
        return services.DocumentationField(record=record, field=validated.pop("field"))

    @extend_schema(
        summary="Files on the documentation's fields, every revision (one field's with ?field=)",
        parameters=[
            OpenApiParameter("field", OpenApiTypes.STR, description="A catalogue field name; 400 for an unknown one.")
        ],
        responses={200: AttachmentSerializer(many=True), 400: OpenApiResponse(description="Unknown field")},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Attach a file to a documentation field (multipart, with `field`); the same name on the same field "
        "again is a new revision",
        request={"multipart/form-data": DocumentationAttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **_REFUSALS},
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class FoundationModelDocumentationAttachmentViewSet(_DocumentationAttachmentViewSet):
    model = FoundationModel


class AdaptationDocumentationAttachmentViewSet(_DocumentationAttachmentViewSet):
    model = Adaptation


class AttachmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One evidence file's record, and its bytes."""

    serializer_class = AttachmentSerializer
    permission_classes = [AnyRole]
    queryset = attachment_list()

    @extend_schema(
        summary="Download the stored bytes (recorded in the audit trail with who downloaded them)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            409: OpenApiResponse(description="The stored bytes no longer match the recorded SHA-256; not served"),
        },
    )
    @file_action(OctetStreamRenderer, detail=True)
    def download(self, request, pk=None):
        attachment = self.get_object()
        handle = services.attachment_open_for_download(actor=request.user, attachment=attachment)
        # Always octet-stream, saved rather than shown (a browser never renders evidence on fmgov's origin); the type
        # detected at upload is in its own header and in the record.
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.name, content_type=OctetStreamRenderer.media_type
        )
        response["X-Detected-Content-Type"] = attachment.content_type
        response["X-Content-SHA256"] = attachment.sha256
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        # Evidence is confidential: no shared cache keeps it, no browser writes it to its disk cache.
        response["Cache-Control"] = "private, no-store"
        return response
