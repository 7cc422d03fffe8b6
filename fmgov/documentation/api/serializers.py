"""Shapes of the documentation API, for the OpenAPI schema; the catalogue's types become typed properties.

Validation is the service's (``fmgov.documentation.fields``): these serializers describe the same rules so that the
schema is exact, and they shape nothing that writes.
"""

from rest_framework import serializers

from fmgov.documentation.choices import DocRole, Provenance, ValueType
from fmgov.documentation.fields import CATALOGUE, MAX_ITEM_TEXT, MAX_ITEMS, MAX_TEXT, FieldSpec

__all__ = [
    "DocumentationFieldsSerializer",
    "DocumentationWriteSerializer",
    "DocumentationSerializer",
    "DocumentationVersionListSerializer",
]


def _value_field(spec: FieldSpec) -> serializers.Field:
    common = {"required": False, "allow_null": True, "label": spec.label, "help_text": "; ".join(spec.sources)}
    if spec.type == ValueType.DATE:
        return serializers.DateField(**common)
    if spec.type == ValueType.INTEGER:
        return serializers.IntegerField(min_value=0, max_value=10**18, **common)
    if spec.type == ValueType.NUMBER:
        return serializers.FloatField(min_value=0, max_value=1e40, **common)
    if spec.type == ValueType.LIST:
        child = serializers.CharField(max_length=MAX_ITEM_TEXT, allow_blank=True, trim_whitespace=False)
        return serializers.ListField(child=child, max_length=MAX_ITEMS, **common)
    return serializers.CharField(max_length=MAX_TEXT, allow_blank=True, trim_whitespace=False, **common)


DocumentationFieldsSerializer = type(
    "DocumentationFieldsSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "Documentation fields by name (null clears one); each cites its Annex XI/XII point or form item.",
        **{spec.name: _value_field(spec) for spec in CATALOGUE},
    },
)


class DocumentationWriteSerializer(serializers.Serializer):
    fields = DocumentationFieldsSerializer(required=False, help_text="Only the fields named change.")
    role = serializers.ChoiceField(choices=DocRole.choices, required=False, help_text="Decides the fields required.")
    systemic_risk = serializers.BooleanField(required=False, help_text="Art. 51: adds Annex XI Section 2, Art. 55.")


class CompletenessSerializer(serializers.Serializer):
    required = serializers.IntegerField()
    filled = serializers.IntegerField()
    score = serializers.FloatField()
    missing = serializers.ListField(child=serializers.CharField())


class DocumentedTargetSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="foundation_model or adaptation")
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()


class FrozenSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    frozen_at = serializers.DateTimeField()


class FieldAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()


class DocumentationSerializer(serializers.Serializer):
    target = DocumentedTargetSerializer()
    role = serializers.ChoiceField(choices=DocRole.choices)
    systemic_risk = serializers.BooleanField()
    fields = DocumentationFieldsSerializer()
    provenance = serializers.DictField(child=serializers.ChoiceField(choices=Provenance.choices))
    version = serializers.IntegerField(allow_null=True, help_text="null: no record yet; the fields are a preview.")
    completeness = CompletenessSerializer()
    frozen_at = serializers.DateTimeField(allow_null=True, help_text="When this version was submitted, if it was.")
    last_frozen = FrozenSerializer(allow_null=True, help_text="The latest version submitted ('as submitted on').")
    attachments = serializers.DictField(
        child=FieldAttachmentSerializer(many=True),
        help_text="Per field name, the latest revision of each evidence file on it "
        "(…/documentation/attachments/ lists every revision).",
    )


class FieldChangeSerializer(serializers.Serializer):
    old = serializers.JSONField()
    new = serializers.JSONField()


class DiffSerializer(serializers.Serializer):
    added = serializers.DictField(child=serializers.JSONField())
    removed = serializers.DictField(child=serializers.JSONField())
    changed = serializers.DictField(child=FieldChangeSerializer())


class DocumentationVersionSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    author = serializers.CharField(allow_null=True)
    role = serializers.ChoiceField(choices=DocRole.choices)
    systemic_risk = serializers.BooleanField()
    frozen_at = serializers.DateTimeField(allow_null=True)
    frozen_by = serializers.CharField(allow_null=True)
    fields = DocumentationFieldsSerializer()
    provenance = serializers.DictField(child=serializers.ChoiceField(choices=Provenance.choices))
    diff = DiffSerializer(help_text="Field-level changes from the version before (all added for the first).")


class DocumentationVersionListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = DocumentationVersionSerializer(many=True)
