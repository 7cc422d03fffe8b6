"""Registry API serializers: they validate and shape, they never write (services do)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fmgov.registry.choices import Access, AdaptationKind, EndpointAdapter, Modality
from fmgov.registry.models import Adaptation, Deployment, FoundationModel, env_var_name_validator
from fmgov.registry.services import looks_like_secret

__all__ = [
    "FoundationModelSerializer",
    "AdaptationSerializer",
    "DeploymentSerializer",
    "EndpointSerializer",
    "ReasonSerializer",
    "DescendantSerializer",
    "AncestorSerializer",
    "DescendantListSerializer",
    "AncestorListSerializer",
    "ModelCardImportSerializer",
    "ModelCardImportResultSerializer",
]

SECRET_MESSAGE = (
    "This looks like a secret. Give the NAME of the environment variable that holds the key "
    "(for example OPENAI_API_KEY), never the key itself."
)


class FoundationModelSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FoundationModel
        fields = [
            "id",
            "name",
            "version",
            "provider",
            "modality",
            "license",
            "access",
            "parameter_count",
            "architecture",
            "release_date",
            "artifact_digest",
            "hf_repo_id",
            "intended_uses",
            "out_of_scope_uses",
            "training_data_summary",
            "training_compute_flop",
            "training_energy_kwh",
            "training_emissions_tco2e",
            "model_card",
            "model_card_metadata",
            "supersedes",
            "owner",
            "created_at",
            "updated_at",
        ]
        # The card's metadata is evidence: only an import sets it.
        read_only_fields = ["id", "owner", "model_card_metadata", "created_at", "updated_at"]


class AdaptationSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    derived_from_models = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="Ids of parent foundation models."
    )
    derived_from_adaptations = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="Ids of parent adaptations."
    )

    class Meta:
        model = Adaptation
        fields = [
            "id",
            "name",
            "version",
            "kind",
            "purpose",
            "data_summary",
            "artifact_digest",
            "hf_repo_id",
            "license",
            "model_card",
            "model_card_metadata",
            "derived_from_models",
            "derived_from_adaptations",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "owner", "model_card_metadata", "created_at", "updated_at"]


def validate_api_key_env(value: str) -> None:
    """One message, the right one: a pasted key is called a key, not a badly named variable."""
    if looks_like_secret(value):
        raise serializers.ValidationError(SECRET_MESSAGE)
    if value:
        env_var_name_validator(value)


class EndpointSerializer(serializers.Serializer):
    adapter = serializers.ChoiceField(
        source="endpoint_adapter", choices=EndpointAdapter.choices, default=EndpointAdapter.NONE
    )
    base_url = serializers.URLField(source="endpoint_base_url", max_length=500, required=False, allow_blank=True)
    model = serializers.CharField(source="endpoint_model", max_length=200, required=False, allow_blank=True)
    api_key_env = serializers.CharField(
        source="endpoint_api_key_env",
        max_length=100,
        required=False,
        allow_blank=True,
        validators=[validate_api_key_env],
        help_text="Name of the environment variable holding the credential, never the credential.",
    )


RECORD_KIND_HELP = '"foundation_model" or "adaptation".'


class TargetSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=RECORD_KIND_HELP)
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()


class DeploymentSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    endpoint = EndpointSerializer(source="*", required=False)
    target = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "name",
            "foundation_model",
            "adaptation",
            "target",
            "environment",
            "endpoint",
            "region",
            "status",
            "went_live_at",
            "expected_requests_per_day",
            "expected_tokens_per_request",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "went_live_at", "owner", "created_at", "updated_at"]

    @extend_schema_field(TargetSerializer)
    def get_target(self, obj: Deployment) -> dict:
        target = obj.target
        kind = "foundation_model" if obj.foundation_model_id else "adaptation"
        return {"kind": kind, "id": target.pk, "name": target.name, "version": target.version}


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class DescendantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    kind = serializers.ChoiceField(choices=AdaptationKind.choices)
    owner_id = serializers.IntegerField()
    depth = serializers.IntegerField()


class AncestorSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=RECORD_KIND_HELP)
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    depth = serializers.IntegerField()


class DescendantListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DescendantSerializer(many=True)


class AncestorListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = AncestorSerializer(many=True)


class ModelCardImportSerializer(serializers.Serializer):
    card = serializers.CharField(required=False, trim_whitespace=False, help_text="The README.md text.")
    file = serializers.FileField(required=False, help_text="Or the README.md as a file upload.")
    hf_repo_id = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    version = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    provider = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    modality = serializers.ChoiceField(choices=Modality.choices, required=False, allow_blank=True, default="")
    access = serializers.ChoiceField(choices=Access.choices, required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=AdaptationKind.choices, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        upload = attrs.pop("file", None)
        if upload is not None and attrs.get("card"):
            raise serializers.ValidationError({"card": ["Give the card as text or as a file, not both."]})
        if upload is not None:
            try:
                attrs["card"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise serializers.ValidationError({"file": ["A model card is UTF-8 text."]})
        if not attrs.get("card"):
            raise serializers.ValidationError({"card": ["Paste the README.md text or upload it as file."]})
        return attrs


class ModelCardImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=RECORD_KIND_HELP)
    created = serializers.BooleanField()
    unresolved_base_models = serializers.ListField(child=serializers.CharField())
    record = serializers.DictField()
