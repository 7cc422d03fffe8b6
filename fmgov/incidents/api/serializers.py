"""Incident API serializers: they validate and shape; the services write and judge the clock."""

from django.utils import timezone
from rest_framework import serializers

from fmgov.incidents.choices import Regime
from fmgov.incidents.models import Incident
from fmgov.incidents.selectors import affected_deployments
from fmgov.registry.models import Deployment, FoundationModel

__all__ = [
    "IncidentSerializer",
    "IncidentDetailSerializer",
    "IncidentOpenSerializer",
    "IncidentUpdateSerializer",
    "IncidentReportSerializer",
]

_TEXT = {"required": False, "allow_blank": True, "max_length": 20000}


class IncidentSerializer(serializers.ModelSerializer):
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    seconds_left = serializers.SerializerMethodField(help_text="Until report_due_at; negative when overdue.")

    class Meta:
        model = Incident
        fields = [
            "id",
            "summary",
            "description",
            "occurred_at",
            "aware_at",
            "deployments",
            "foundation_models",
            "regime",
            "harm_category",
            "deadline_days",
            "deadline_source",
            "report_due_at",
            "seconds_left",
            "status",
            "reported_at",
            "corrective_measures",
            "root_cause",
            "opened_by",
            "confirmed_by",
            "confirmed_at",
            "closed_at",
            "overdue_finding",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_seconds_left(self, obj: Incident) -> int | None:
        if obj.reported_at is not None:
            return None
        return int((obj.report_due_at - timezone.now()).total_seconds())


class IncidentDetailSerializer(IncidentSerializer):
    affected_deployments = serializers.SerializerMethodField(
        help_text="Deployments involved and every deployment downstream of their targets in the lineage."
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "affected_deployments"]
        read_only_fields = fields

    def get_affected_deployments(self, obj: Incident) -> list[int]:
        return list(affected_deployments(obj).values_list("pk", flat=True))


class IncidentUpdateSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, max_length=300)
    description = serializers.CharField(**_TEXT)
    occurred_at = serializers.DateTimeField(required=False)
    aware_at = serializers.DateTimeField(required=False)
    regime = serializers.ChoiceField(choices=Regime.choices, required=False)
    harm_category = serializers.CharField(required=False, max_length=50)
    corrective_measures = serializers.CharField(**_TEXT)
    root_cause = serializers.CharField(**_TEXT)


class IncidentOpenSerializer(IncidentUpdateSerializer):
    summary = serializers.CharField(max_length=300)
    occurred_at = serializers.DateTimeField()
    aware_at = serializers.DateTimeField(help_text="When the organisation became aware: the deadline runs from here.")
    regime = serializers.ChoiceField(choices=Regime.choices)
    harm_category = serializers.CharField(max_length=50, help_text="A category the regime's configuration names.")
    deployments = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all()), required=False, max_length=100
    )
    foundation_models = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=FoundationModel.objects.all()), required=False, max_length=100
    )
    suspend = serializers.BooleanField(
        default=False, help_text="Reviewers and admins: confirm at once, suspending what it involves."
    )


class IncidentReportSerializer(serializers.Serializer):
    reported_at = serializers.DateTimeField(required=False, help_text="When it was reported; now if left out.")
