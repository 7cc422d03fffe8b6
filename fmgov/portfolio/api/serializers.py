from rest_framework import serializers

from fmgov.portfolio.models import PortfolioFinding, PortfolioSettings
from fmgov.registry.choices import Environment


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


class PortfolioFindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = PortfolioFinding
        fields = [
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
        read_only_fields = fields


class FindingTransitionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
