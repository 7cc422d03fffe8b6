from rest_framework import serializers

from audits.canonical import HASHED_FIELDS
from audits.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    """What was hashed (read from the stored bytes, whatever the columns hold), its hash, and any edited column."""

    altered_columns = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Columns changed in the database after the event was recorded (filters read them); "
        "the fields above are the hashed bytes' values.",
    )

    class Meta:
        model = AuditEvent
        fields = [*HASHED_FIELDS, "hash", "altered_columns"]
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    length = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    checkpoints_checked = serializers.IntegerField()


class PublicKeySerializer(serializers.Serializer):
    """A configured checkpoint verifying key (from AUDIT_PUBLIC_KEY_FILES, never from the database)."""

    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key_pem = serializers.CharField(source="pem")
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
