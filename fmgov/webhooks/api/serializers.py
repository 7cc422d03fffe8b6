"""Webhook API serializers: they validate and shape, services write. No response carries the URL's path,
and the signing secret appears only in the answer to creating an endpoint or rotating its secret."""

from rest_framework import serializers

from fmgov.core.exceptions import InvalidInput
from fmgov.webhooks.choices import ALL_EVENTS, EVENT_TYPES, PayloadFormat
from fmgov.webhooks.models import WebhookDelivery, WebhookEndpoint
from fmgov.webhooks.services import MAX_URL_LENGTH, WEBHOOK_FIELDS, check_url

__all__ = [
    "WebhookEndpointSerializer",
    "WebhookEndpointCreatedSerializer",
    "WebhookEndpointUpdateSerializer",
    "WebhookSecretSerializer",
    "WebhookDeliverySerializer",
    "RedeliverSerializer",
]


def _valid_url(value: str) -> None:
    """The service's URL rule, run here too so that a bad URL and bad events are reported together."""
    try:
        check_url(value)
    except InvalidInput as exc:
        raise serializers.ValidationError(exc.field_errors["url"]) from None


def _url_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        max_length=MAX_URL_LENGTH,
        help_text="The receiver's http(s) URL; stored sealed, only its origin is shown afterwards.",
        validators=[_valid_url],
        **kwargs,
    )


def _events_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=[*EVENT_TYPES, ALL_EVENTS]),
        allow_empty=False,
        max_length=len(EVENT_TYPES) + 1,
        help_text='Event types to receive, or ["*"] for all.',
        **kwargs,
    )


class WebhookEndpointSerializer(serializers.ModelSerializer):
    url = _url_field()
    events = _events_field()
    format = serializers.ChoiceField(choices=PayloadFormat.choices, default=PayloadFormat.FMGOV)
    active = serializers.BooleanField(default=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            *WEBHOOK_FIELDS,
            "origin",
            "consecutive_failures",
            "disabled_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "origin",
            "consecutive_failures",
            "disabled_reason",
            "created_by",
            "created_at",
            "updated_at",
        ]


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret, shown this once.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = _url_field(required=False)
    events = _events_field(required=False)
    format = serializers.ChoiceField(choices=PayloadFormat.choices, required=False)
    active = serializers.BooleanField(required=False)


class WebhookSecretSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    secret = serializers.CharField(read_only=True, help_text="The new signing secret, shown this once.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_type",
            "audit_seq",
            "audit_hash",
            "status",
            "attempts",
            "response_code",
            "latency_ms",
            "error",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


class RedeliverSerializer(serializers.Serializer):
    delivery = serializers.UUIDField(help_text="The delivery to send again (its X-Fmgov-Delivery id).")
