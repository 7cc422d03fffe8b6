"""Retention API serializers: the periods with what a purge would do, and a purge's request and answer."""

from rest_framework import serializers

from fmgov.retention.conf import RECORD_CLASSES


class RetentionClassSerializer(serializers.Serializer):
    record_class = serializers.ChoiceField(choices=RECORD_CLASSES)
    setting = serializers.CharField()
    retention_days = serializers.IntegerField()
    cutoff = serializers.DateTimeField()
    expired = serializers.IntegerField(help_text="Rows past the period that a purge now would delete.")
    kept_bound = serializers.IntegerField(help_text="Rows past the period that a current approval binds: kept.")


class PurgeRequestSerializer(serializers.Serializer):
    record_class = serializers.ChoiceField(choices=RECORD_CLASSES)


class PurgeResultSerializer(serializers.Serializer):
    record_class = serializers.ChoiceField(choices=RECORD_CLASSES)
    retention_days = serializers.IntegerField()
    cutoff = serializers.DateTimeField()
    deleted = serializers.IntegerField()
    kept_bound = serializers.IntegerField()
    deleted_ids = serializers.ListField(child=serializers.IntegerField())
