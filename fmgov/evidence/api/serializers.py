"""Evidence API serializers: they validate and shape; the services store, judge and audit."""

from rest_framework import serializers

from fmgov.evidence.models import Attachment

__all__ = ["AttachmentSerializer", "AttachmentUploadSerializer", "DocumentationAttachmentUploadSerializer"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    superseded_by = serializers.SerializerMethodField(help_text="The newer revision of the same name, if any.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "name",
            "description",
            "sha256",
            "size",
            "content_type",
            "revision",
            "supersedes",
            "superseded_by",
            "effective_date",
            "expires_on",
            "review",
            "review_item",
            "incident",
            "documentation_record",
            "documentation_field",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_superseded_by(self, obj: Attachment) -> int | None:
        newer = getattr(obj, "superseded_by", None)
        return newer.pk if newer is not None else None

    def get_download_url(self, obj: Attachment) -> str:
        return f"/api/v1/attachments/{obj.pk}/download/"


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The evidence file (multipart). Its type is detected from the bytes; at most "
        "EVIDENCE_MAX_UPLOAD_BYTES (25 MB by default). A file of the same name becomes the next revision."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class DocumentationAttachmentUploadSerializer(AttachmentUploadSerializer):
    field = serializers.CharField(
        max_length=100,
        help_text="The documentation field the file is evidence for: a name from the catalogue (400 otherwise). "
        "A file of the same name on the same field becomes the next revision.",
    )
