"""Shapes of the ML-BOM import's answer (the BOMs themselves are CycloneDX documents, not serializers)."""

from rest_framework import serializers

__all__ = ["BomImportResultSerializer"]


class BomImportedRecordSerializer(serializers.Serializer):
    bom_ref = serializers.CharField(help_text="The component's bom-ref in the imported BOM.")
    kind = serializers.ChoiceField(choices=["foundation_model", "adaptation"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    artifact_digest = serializers.CharField(allow_blank=True)
    created = serializers.BooleanField(help_text="False when the record was already registered (same digest).")


class BomImportResultSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="Whether the import registered anything new.")
    records = BomImportedRecordSerializer(many=True)
