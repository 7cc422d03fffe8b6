from rest_framework import serializers

from audits.canonical import HASHED_FIELDS
from audits.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [*HASHED_FIELDS, "hash"]  # exactly what is chained, and the hash
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    length = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    checkpoints_checked = serializers.IntegerField()
