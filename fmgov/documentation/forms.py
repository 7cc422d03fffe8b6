"""The documentation form, built from the catalogue: one input per field, typed, grouped by section.

The form only shapes input (dates as ISO text, lists one per line, empty as null); the service validates it
against the catalogue and writes the version.
"""

from __future__ import annotations

from typing import Any

from django import forms

from fmgov.documentation.choices import DocRole, Provenance, ValueType
from fmgov.documentation.fields import CATALOGUE, MAX_TEXT, SECTIONS, FieldSpec

__all__ = ["DocumentationForm"]

_PROVENANCE = dict(Provenance.choices)


def _form_field(spec: FieldSpec) -> forms.Field:
    common = {"required": False, "label": spec.label, "help_text": "; ".join(spec.sources)}
    if spec.type == ValueType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if spec.type == ValueType.INTEGER:
        return forms.IntegerField(min_value=0, **common)
    if spec.type == ValueType.NUMBER:
        return forms.FloatField(min_value=0, **common)
    if spec.type == ValueType.LIST:
        common["help_text"] = "One per line. " + common["help_text"]
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), **common)
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=MAX_TEXT, strip=False, **common)


class DocumentationForm(forms.Form):
    role = forms.ChoiceField(
        choices=DocRole.choices, label="The organisation's role", help_text="Decides what is required."
    )
    systemic_risk = forms.BooleanField(required=False, label="Systemic risk (Art. 51)",
                                       help_text="Adds Annex XI Section 2 and Art. 55(1).")  # fmt: skip

    def __init__(self, *args, values: dict[str, Any], **kwargs) -> None:
        initial = {
            spec.name: "\n".join(values[spec.name]) if spec.type == ValueType.LIST else values[spec.name]
            for spec in CATALOGUE
            if values.get(spec.name) is not None
        }
        super().__init__(*args, initial=initial | kwargs.pop("initial", {}), **kwargs)
        for spec in CATALOGUE:
            self.fields[spec.name] = _form_field(spec)

    def sections(self, provenance: dict[str, str]) -> list[dict[str, Any]]:
        """The bound fields by section, each with where its current value came from, for the template."""
        return [
            {
                "title": title,
                "fields": [
                    {"field": self[spec.name], "provenance": _PROVENANCE.get(provenance.get(spec.name, ""), "")}
                    for spec in CATALOGUE
                    if spec.section == key
                ],
            }
            for key, title in SECTIONS.items()
        ]

    def documentation_values(self) -> dict[str, Any]:
        """Every catalogue field as the service takes it: null for empty, dates as ISO text, lists by line."""
        values: dict[str, Any] = {}
        for spec in CATALOGUE:
            value = self.cleaned_data.get(spec.name)
            if value in (None, ""):
                values[spec.name] = None
            elif spec.type == ValueType.DATE:
                values[spec.name] = value.isoformat()
            elif spec.type == ValueType.LIST:
                values[spec.name] = [line.strip() for line in value.splitlines() if line.strip()] or None
            else:
                values[spec.name] = value
        return values
