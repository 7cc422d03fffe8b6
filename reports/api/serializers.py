"""Report API serializers: input for a request, output for status."""

from rest_framework import serializers

from fmgov.incidents.models import Incident
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from reports.choices import DOCUMENTATION_KINDS, DocumentationAudience, ReportKind, ReportState
from reports.models import Report


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all(), required=False, allow_null=True)
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    incident = serializers.PrimaryKeyRelatedField(queryset=Incident.objects.all(), required=False, allow_null=True)
    foundation_model = serializers.PrimaryKeyRelatedField(
        queryset=FoundationModel.objects.all(), required=False, allow_null=True
    )
    adaptation = serializers.PrimaryKeyRelatedField(queryset=Adaptation.objects.all(), required=False, allow_null=True)
    audience = serializers.ChoiceField(choices=DocumentationAudience.choices, required=False, allow_blank=True)

    def validate(self, attrs):
        kind = attrs["kind"]
        if kind != ReportKind.INCIDENT_REPORT and attrs.get("incident") is not None:
            raise serializers.ValidationError(
                {"incident": ["Only an incident report has an incident; leave this out."]}
            )
        if kind not in DOCUMENTATION_KINDS:
            given = [f for f in ("foundation_model", "adaptation", "audience") if attrs.get(f) not in (None, "")]
            if given:
                raise serializers.ValidationError(
                    {
                        f: ["Only a documentation export has a model, adaptation or audience; leave this out."]
                        for f in given
                    }  # fmt: skip
                )
        check = {
            ReportKind.INCIDENT_REPORT: self._incident_report_errors,
            ReportKind.DEPLOYMENT_DOSSIER: self._dossier_errors,
            ReportKind.MODEL_DOCUMENTATION: self._documentation_errors,
            ReportKind.DOWNSTREAM_INFORMATION: self._documentation_errors,
        }.get(kind, self._period_errors)
        errors = check(attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    @staticmethod
    def _documentation_errors(attrs) -> dict[str, list[str]]:
        errors = {}
        kind = attrs["kind"]
        subjects = [f for f in ("foundation_model", "adaptation") if attrs.get(f) is not None]
        if not subjects:
            errors["foundation_model"] = ["Name the foundation model or the adaptation whose documentation to export."]
        elif len(subjects) == 2:
            errors["adaptation"] = ["Name either a foundation model or an adaptation, not both."]
        audience = attrs.get("audience") or ""
        if kind == ReportKind.MODEL_DOCUMENTATION and not audience:
            errors["audience"] = [
                f"This field is required for model documentation: one of {', '.join(DocumentationAudience.values)}."
            ]
        if kind == ReportKind.DOWNSTREAM_INFORMATION and audience not in (
            "",
            DocumentationAudience.DOWNSTREAM_PROVIDERS,
        ):
            errors["audience"] = ["The Annex XII package is for downstream providers; leave this out."]
        for field in ("deployment", "period_start", "period_end"):
            if attrs.get(field) is not None:
                errors[field] = ["A documentation export is about one model or adaptation; leave this out."]
        return errors

    @staticmethod
    def _incident_report_errors(attrs) -> dict[str, list[str]]:
        errors = {}
        if attrs.get("incident") is None:
            errors["incident"] = ["This field is required for an incident report."]
        for field in ("deployment", "period_start", "period_end"):
            if attrs.get(field) is not None:
                errors[field] = ["An incident report is about one incident; leave this out."]
        return errors

    @staticmethod
    def _dossier_errors(attrs) -> dict[str, list[str]]:
        errors = {}
        if attrs.get("deployment") is None:
            errors["deployment"] = ["This field is required for a deployment dossier."]
        for field in ("period_start", "period_end"):
            if attrs.get(field) is not None:
                errors[field] = ["A deployment dossier has no period; leave this out."]
        return errors

    @staticmethod
    def _period_errors(attrs) -> dict[str, list[str]]:
        errors = {}
        for field in ("period_start", "period_end"):
            if attrs.get(field) is None:
                errors[field] = ["This field is required for a period summary."]
        if attrs.get("deployment") is not None:
            errors["deployment"] = ["A period summary covers the whole registry; leave this out."]
        start, end = attrs.get("period_start"), attrs.get("period_end")
        if start and end and end < start:
            errors["period_end"] = ["The period must end on or after its start."]
        return errors


class ReportSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default=None, allow_null=True)
    title = serializers.CharField(read_only=True)
    # Plain text, not the enum: empty for every kind but a documentation export.
    audience = serializers.CharField(
        read_only=True, help_text="ai_office, national_authorities or downstream_providers; empty for other kinds."
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "title",
            "deployment",
            "incident",
            "foundation_model",
            "adaptation",
            "audience",
            "period_start",
            "period_end",
            "state",
            "progress",
            "pages",
            "sha256",
            "size",
            "audit_head_seq",
            "audit_head_hash",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str | None:
        if obj.state != ReportState.SUCCEEDED:
            return None
        request = self.context.get("request")
        path = f"/api/v1/reports/{obj.pk}/download/"
        return request.build_absolute_uri(path) if request else path
