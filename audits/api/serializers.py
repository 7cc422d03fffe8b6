from rest_framework import serializers

from audits.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "timestamp",
            "actor_id",
            "actor_username",
            "actor_system",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "context",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    length = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_bad_seq = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    checkpoints_checked = serializers.IntegerField()
