"""Registry API serializers: they validate and shape, they never write (services do)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fmgov.core.exceptions import InvalidInput
from fmgov.core.uploads import read_upload
from fmgov.registry.choices import Access, AdaptationKind, CredentialSource, EndpointAdapter, Modality
from fmgov.registry.endpoints import active_local_model_names, deployment_run_blocker
from fmgov.registry.model_cards import MAX_CARD_BYTES
from fmgov.registry.models import Adaptation, Deployment, EndpointCredential, FoundationModel, LocalModel
from fmgov.registry.services import (
    ADAPTATION_FIELDS,
    DEPLOYMENT_ENDPOINT_FIELDS,
    DEPLOYMENT_FIELDS,
    FOUNDATION_MODEL_FIELDS,
    IMPORT_ONLY_FIELDS,
    PARENT_KEYS,
)
from fmgov.registry.services.credentials import CREDENTIAL_FIELDS
from fmgov.registry.services.local_models import LOCAL_MODEL_FIELDS

__all__ = [
    "FoundationModelSerializer",
    "AdaptationSerializer",
    "DeploymentSerializer",
    "EndpointSerializer",
    "EndpointCredentialSerializer",
    "EndpointCredentialUpdateSerializer",
    "LocalModelSerializer",
    "ReasonSerializer",
    "DescendantSerializer",
    "AncestorSerializer",
    "ModelCardImportSerializer",
    "ModelCardImportResultSerializer",
]

API_KEY_ENV_MESSAGE = (
    "api_key_env is no longer accepted: name a registered credential in endpoint.credential "
    "(admins register credentials at /api/v1/endpoint-credentials/)."
)


class FoundationModelSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FoundationModel
        fields = ["id", *FOUNDATION_MODEL_FIELDS, "owner", "created_at", "updated_at"]
        # The card's metadata is evidence: only an import sets it.
        read_only_fields = ["id", "owner", *sorted(IMPORT_ONLY_FIELDS), "created_at", "updated_at"]


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
        fields = ["id", *ADAPTATION_FIELDS, *PARENT_KEYS, "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", *sorted(IMPORT_ONLY_FIELDS), "created_at", "updated_at"]


class EndpointSerializer(serializers.Serializer):
    """The deployment's DEPLOYMENT_ENDPOINT_FIELDS nested: adapter, base_url, model and credential map to the
    ``endpoint_``-prefixed fields (each field's ``source``); the rest is read-only."""

    adapter = serializers.ChoiceField(
        source="endpoint_adapter", choices=EndpointAdapter.choices, default=EndpointAdapter.NONE
    )
    base_url = serializers.URLField(source="endpoint_base_url", max_length=500, required=False, allow_blank=True)
    model = serializers.CharField(
        source="endpoint_model",
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The model name at the endpoint; for the local adapter, the name of a registered local model.",
    )
    credential = serializers.SlugRelatedField(
        source="endpoint_credential",
        slug_field="name",
        queryset=EndpointCredential.objects.filter(active=True),
        required=False,
        allow_null=True,
        help_text="Name of an active credential an admin registered; the workers send it only to its hosts.",
    )
    legacy_credential_name = serializers.CharField(
        read_only=True,
        help_text="The variable this deployment named before credentials were registered (for the admin).",
    )
    runnable = serializers.SerializerMethodField()
    blocker = serializers.SerializerMethodField(help_text="Why a worker cannot call the endpoint, or null.")

    def to_internal_value(self, data):
        if isinstance(data, dict) and "api_key_env" in data:
            raise serializers.ValidationError({"api_key_env": [API_KEY_ENV_MESSAGE]})
        return super().to_internal_value(data)

    def _blocker(self, obj: Deployment) -> str | None:
        root = self.root
        if not hasattr(root, "_local_model_names"):
            root._local_model_names = active_local_model_names()
        return deployment_run_blocker(obj, local_models=root._local_model_names)

    def get_runnable(self, obj: Deployment) -> bool:
        return self._blocker(obj) is None

    def get_blocker(self, obj: Deployment) -> str | None:
        return self._blocker(obj)


RECORD_KIND_HELP = '"foundation_model" or "adaptation".'


class TargetSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=RECORD_KIND_HELP)
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()


# DEPLOYMENT_FIELDS with the four endpoint fields replaced, where the first of them stands, by the nested object.
API_DEPLOYMENT_FIELDS = [
    "endpoint" if f == DEPLOYMENT_ENDPOINT_FIELDS[0] else f
    for f in DEPLOYMENT_FIELDS
    if f == DEPLOYMENT_ENDPOINT_FIELDS[0] or f not in DEPLOYMENT_ENDPOINT_FIELDS
]


class DeploymentSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    endpoint = EndpointSerializer(source="*", required=False)
    target = serializers.SerializerMethodField()
    revises = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The deployment this one is a revision of (its go-live retires that one), or null.",
    )
    revised_by = serializers.IntegerField(
        source="revised_by_id",
        read_only=True,
        allow_null=True,
        help_text="The revision whose go-live replaced this deployment, or null.",
    )

    class Meta:
        model = Deployment
        fields = [
            "id",
            *API_DEPLOYMENT_FIELDS,
            "target",
            "status",
            "went_live_at",
            "revises",
            "revised_by",
            "owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "went_live_at", "revises", "owner", "created_at", "updated_at"]

    def to_internal_value(self, data):
        if isinstance(data, dict) and "api_key_env" in data:
            raise serializers.ValidationError({"endpoint": {"api_key_env": [API_KEY_ENV_MESSAGE]}})
        return super().to_internal_value(data)

    @extend_schema_field(TargetSerializer)
    def get_target(self, obj: Deployment) -> dict:
        target = obj.target
        kind = "foundation_model" if obj.foundation_model_id else "adaptation"
        return {"kind": kind, "id": target.pk, "name": target.name, "version": target.version}


class EndpointCredentialSerializer(serializers.ModelSerializer):
    """A credential as admins see it: where the value comes from, never the value (write-only)."""

    value = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=8192,
        style={"input_type": "password"},
        help_text="For a sealed credential: the value, encrypted to the workers' key before it is stored.",
    )
    allowed_hosts = serializers.ListField(
        child=serializers.CharField(max_length=260), allow_empty=False, help_text="host or host:port entries."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    source = serializers.ChoiceField(choices=CredentialSource.choices)

    class Meta:
        model = EndpointCredential
        fields = ["id", *CREDENTIAL_FIELDS, "active", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "active", "created_by", "created_at", "updated_at"]
        # Uniqueness is the service's check (a per-field 400 either way).
        extra_kwargs = {"name": {"validators": []}}


class EndpointCredentialUpdateSerializer(serializers.Serializer):
    """What may change on a credential: its hosts, its variable (env), its value (sealed: a rotation)."""

    allowed_hosts = serializers.ListField(
        child=serializers.CharField(max_length=260), allow_empty=False, required=False
    )
    env_var = serializers.CharField(max_length=100, required=False)
    value = serializers.CharField(
        write_only=True, required=False, trim_whitespace=False, max_length=8192, style={"input_type": "password"}
    )


class LocalModelSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = LocalModel
        fields = ["id", *LOCAL_MODEL_FIELDS, "active", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "active", "created_by", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}


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
                attrs["card"] = read_upload(upload, max_bytes=MAX_CARD_BYTES, field="file").decode("utf-8")
            except InvalidInput as exc:
                raise serializers.ValidationError(exc.field_errors)
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
