from rest_framework import serializers

from fmgov.findings.api.serializers import FindingSerializer
from fmgov.portfolio.models import PortfolioSettings
from fmgov.registry.choices import Environment

# The fields /api/v1/portfolio/findings/ always answered, in their order; the general ones follow.
LEGACY_FINDING_FIELDS = [
    "id",
    "kind",
    "subject",
    "foundation_model",
    "value",
    "threshold",
    "details",
    "status",
    "note",
    "created_at",
    "updated_at",
]


class ConcentrationQuerySerializer(serializers.Serializer):
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)


class FootprintQuerySerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)

    def validate(self, attrs):
        if attrs["period_end"] < attrs["period_start"]:
            raise serializers.ValidationError({"period_end": ["Must not be before period_start."]})
        if (attrs["period_end"] - attrs["period_start"]).days > 3660:
            raise serializers.ValidationError({"period_end": ["The period may span at most ten years."]})
        return attrs


class ProviderShareSerializer(serializers.Serializer):
    provider = serializers.CharField()
    deployments = serializers.FloatField()
    share = serializers.FloatField()


class ModelShareSerializer(serializers.Serializer):
    foundation_model = serializers.IntegerField()
    name = serializers.CharField()
    provider = serializers.CharField()
    deployments = serializers.FloatField()
    share = serializers.FloatField()
    dependent_deployments = serializers.IntegerField()


class SinglePointOfFailureSerializer(serializers.Serializer):
    foundation_model = serializers.IntegerField()
    name = serializers.CharField()
    provider = serializers.CharField()
    deployments_at_risk = serializers.IntegerField()
    share_at_risk = serializers.FloatField()


class ConcentrationSerializer(serializers.Serializer):
    environment = serializers.CharField(allow_null=True)
    live_deployments = serializers.IntegerField()
    hhi = serializers.FloatField()
    band = serializers.CharField()
    alert_threshold = serializers.FloatField()
    alert = serializers.BooleanField()
    single_point_of_failure_share = serializers.FloatField()
    providers = ProviderShareSerializer(many=True)
    models = ModelShareSerializer(many=True)
    single_points_of_failure = SinglePointOfFailureSerializer(many=True)


class FootprintSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    environment = serializers.CharField(allow_null=True)
    training = serializers.DictField()
    inference = serializers.DictField()
    method = serializers.DictField()


class PortfolioSettingsSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)  # null until an admin saves

    class Meta:
        model = PortfolioSettings
        fields = ["hhi_alert_threshold", "single_point_of_failure_share", "grid_intensity_gco2e_per_kwh", "updated_at"]
        read_only_fields = ["updated_at"]


class PortfolioFindingSerializer(FindingSerializer):
    """The portfolio finding as clients have always read it, then the general fields."""

    kind = serializers.CharField(source="detail.kind", read_only=True)
    subject = serializers.CharField(source="subject_label", read_only=True)
    foundation_model = serializers.SerializerMethodField()
    value = serializers.FloatField(source="detail.value", read_only=True)
    threshold = serializers.FloatField(source="detail.threshold", read_only=True)
    details = serializers.JSONField(source="detail.details", read_only=True, default=dict)
    status = serializers.CharField(source="state", read_only=True)
    note = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(source="opened_at", read_only=True)

    class Meta(FindingSerializer.Meta):
        fields = [
            *LEGACY_FINDING_FIELDS,
            *(f for f in FindingSerializer.Meta.fields if f not in LEGACY_FINDING_FIELDS),
        ]
        read_only_fields = fields

    def get_foundation_model(self, finding) -> int | None:
        ct = finding.subject_type
        return finding.subject_id if ct and (ct.app_label, ct.model) == ("registry", "foundationmodel") else None
