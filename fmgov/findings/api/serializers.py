"""The general finding shape and the note a transition takes; source apps extend the shape for old clients."""

from rest_framework import serializers

from fmgov.findings.models import Finding

__all__ = ["FindingSerializer", "FindingNoteSerializer"]


class FindingSerializer(serializers.ModelSerializer):
    subject_type = serializers.SerializerMethodField()
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, default=None, allow_null=True
    )
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "source",
            "subject_type",
            "subject_id",
            "subject_label",
            "severity",
            "state",
            "title",
            "detail",
            "opened_at",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_subject_type(self, finding: Finding) -> str | None:
        ct = finding.subject_type
        return f"{ct.app_label}.{ct.model}" if ct else None


class FindingNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
