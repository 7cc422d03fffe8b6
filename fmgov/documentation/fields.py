"""The field catalogue of model documentation: what each field is, where the law asks for it, who reads it.

Compiled from Regulation (EU) 2024/1689 (the AI Act) Annex XI (technical documentation for the AI Office and
national competent authorities, Art. 53(1)(a)), Annex XII (information for downstream providers, Art. 53(1)(b)),
Art. 55(1) (models with systemic risk), and the Model Documentation Form of the General-Purpose AI Code of
Practice (Transparency chapter, Measure 1.1, July 2025), whose items are cited by section and item name.
Audiences follow the form's marks: what Annex XII also asks for goes to downstream providers; the rest only to
the AI Office and national authorities.

Which fields are required depends on the organisation's role for the model:

- a **provider** (Art. 53(1)(a)-(b)) keeps every Annex XI and Annex XII field; with systemic risk (Art. 51) also
  Annex XI Section 2 and the Art. 55(1)(b) risk assessment;
- a **downstream provider** holds what Annex XII says it must be given (the fields marked for downstream
  providers);
- a **deployer** (Art. 26) keeps what identifies the model and the terms it is used under.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from fmgov.documentation.choices import Audience, DocRole, ValueType

__all__ = [
    "SECTIONS",
    "FieldSpec",
    "CATALOGUE",
    "FIELDS",
    "MAX_TEXT",
    "MAX_ITEMS",
    "field_error",
    "is_filled",
    "required_fields",
    "normalise",
    "as_stored",
]

SECTIONS = {
    "identity": "Identity",
    "properties": "Properties",
    "distribution": "Distribution and use",
    "training": "Training",
    "systemic_risk": "Systemic risk",
}
MAX_TEXT = 20_000
MAX_ITEMS = 100
MAX_ITEM_TEXT = 500

ALL = frozenset(Audience.values)
AUTHORITIES = frozenset({Audience.AI_OFFICE, Audience.NATIONAL_AUTHORITIES})
P, DP, D = DocRole.PROVIDER, DocRole.DOWNSTREAM_PROVIDER, DocRole.DEPLOYER


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    section: str
    type: str
    sources: tuple[str, ...]
    audiences: frozenset[str]
    required_for: frozenset[str]
    systemic_risk_only: bool = False

    def required(self, role: str, systemic_risk: bool) -> bool:
        return role in self.required_for and (systemic_risk or not self.systemic_risk_only)


def _f(name, label, section, type_, sources, audiences, required_for, systemic=False) -> FieldSpec:
    return FieldSpec(
        name, label, section, type_, tuple(sources), frozenset(audiences), frozenset(required_for), systemic
    )


T, DATE, INT, NUM, LIST = ValueType.TEXT, ValueType.DATE, ValueType.INTEGER, ValueType.NUMBER, ValueType.LIST
FORM = "Model Documentation Form"

CATALOGUE: tuple[FieldSpec, ...] = (
    # Identity
    _f("provider_legal_name", "Provider's legal name", "identity", T,
       [f"{FORM} 1.1 (Legal name for the model provider)"], ALL, {P, DP, D}),
    _f("model_name", "Model name", "identity", T,
       ["Annex XI, Section 1, point 1", "Annex XII, point 1", f"{FORM} 1.2 (Model name)"], ALL, {P, DP, D}),
    _f("model_versions", "Versions covered", "identity", LIST,
       [f"{FORM} 1.2 (the publicly available versions covered)"], ALL, {P, DP, D}),
    _f("authenticity_evidence", "Authenticity evidence (artifact digest)", "identity", T,
       [f"{FORM} 1.3 (Model authenticity)"], ALL, {P, DP}),
    _f("release_date", "Release date", "identity", DATE,
       ["Annex XI, Section 1, point 1(c)", "Annex XII, point 1(c)", f"{FORM} 1.4 (Release date)"], ALL, {P, DP}),
    _f("eu_market_date", "EU market date", "identity", DATE,
       [f"{FORM} 1.5 (Union market release date)", "Art. 111(3)"], ALL, {P, DP, D}),
    _f("dependencies", "Dependencies (base models)", "identity", LIST,
       [f"{FORM} 1.6 (Model dependencies)"], ALL, {P, DP, D}),
    # Properties
    _f("architecture", "Architecture", "properties", T,
       ["Annex XI, Section 1, point 1(d)", "Annex XII, point 1(f)", f"{FORM} 2 (Model architecture)"], ALL, {P, DP}),
    _f("design_specification", "Design specification and rationale of key choices", "properties", T,
       ["Annex XI, Section 1, point 2(b)", f"{FORM} 2 (Design specifications of the model)"], ALL, {P, DP}),
    _f("input_modalities", "Input modalities", "properties", LIST,
       ["Annex XI, Section 1, point 1(e)", "Annex XII, points 1(g) and 2(b)", f"{FORM} 2 (Input modalities)"],
       ALL, {P, DP}),
    _f("output_modalities", "Output modalities", "properties", LIST,
       ["Annex XI, Section 1, point 1(e)", "Annex XII, points 1(g) and 2(b)", f"{FORM} 2 (Output modalities)"],
       ALL, {P, DP}),
    _f("max_input_size", "Maximum input size (context window)", "properties", T,
       ["Annex XII, point 2(b)", f"{FORM} 2 (maximum input size per modality)"], ALL, {P, DP}),
    _f("max_output_size", "Maximum output size", "properties", T,
       ["Annex XII, point 2(b)", f"{FORM} 2 (maximum output size per modality)"], ALL, {P, DP}),
    _f("parameter_count", "Total parameter count", "properties", INT,
       ["Annex XI, Section 1, point 1(d)", "Annex XII, point 1(f)", f"{FORM} 2 (Total model size)"], ALL, {P, DP}),
    # Distribution and use
    _f("distribution_channels", "Distribution channels", "distribution", LIST,
       ["Annex XI, Section 1, point 1(c)", "Annex XII, point 1(c)", f"{FORM} 3 (Distribution channels)"],
       ALL, {P, DP}),
    _f("licence", "Licence", "distribution", T,
       ["Annex XI, Section 1, point 1(f)", "Annex XII, point 1(h)", f"{FORM} 3 (License)"], ALL, {P, DP, D}),
    _f("acceptable_use_policy", "Acceptable use policy", "distribution", T,
       ["Annex XI, Section 1, point 1(b)", "Annex XII, point 1(b)", f"{FORM} 4 (Acceptable Use Policy)"],
       ALL, {P, DP, D}),
    _f("intended_uses", "Intended uses", "distribution", T,
       ["Annex XI, Section 1, point 1(a)", "Annex XII, point 1(a)", f"{FORM} 4 (Intended uses)"], ALL, {P, DP, D}),
    _f("restricted_uses", "Restricted and prohibited uses", "distribution", T,
       [f"{FORM} 4 (Intended uses: uses restricted or prohibited by the provider)"], ALL, {P, DP, D}),
    _f("ai_system_types", "Kinds of AI system it may be integrated in", "distribution", T,
       ["Annex XI, Section 1, point 1(a)", "Annex XII, point 1(a)", f"{FORM} 4 (Type and nature of AI systems)"],
       ALL, {P, DP}),
    _f("integration_requirements", "What integration requires (technical means)", "distribution", T,
       ["Annex XI, Section 1, point 2(a)", "Annex XII, points 1(d) and 2(a)",
        f"{FORM} 4 (Technical means for integration)"], ALL, {P, DP}),
    _f("required_hardware", "Required hardware", "distribution", T,
       ["Annex XII, point 1(d)", f"{FORM} 4 (Required hardware)"], ALL, {P, DP}),
    _f("required_software", "Required software and versions", "distribution", T,
       ["Annex XII, point 1(e)", f"{FORM} 4 (Required software)"], ALL, {P, DP}),
    # Training
    _f("training_data_types", "Training data types", "training", T,
       ["Annex XI, Section 1, point 2(c)", "Annex XII, point 2(c)", f"{FORM} 6 (Data type/modality)"], ALL, {P, DP}),
    _f("training_data_provenance", "Training data provenance", "training", T,
       ["Annex XI, Section 1, point 2(c)", "Annex XII, point 2(c)", f"{FORM} 6 (Provenance of data)"], ALL, {P, DP}),
    _f("data_collection_methods", "How the data was obtained and selected", "training", T,
       ["Annex XI, Section 1, point 2(c)", f"{FORM} 6 (How data is obtained and selected)"], AUTHORITIES, {P}),
    _f("data_curation", "Data curation methods", "training", T,
       ["Annex XI, Section 1, point 2(c)", "Annex XII, point 2(c)", f"{FORM} 6 (Data curation methodologies)"],
       ALL, {P, DP}),
    _f("data_points", "Number of data points", "training", INT,
       ["Annex XI, Section 1, point 2(c)", f"{FORM} 6 (Number of data points)"], AUTHORITIES, {P}),
    _f("bias_detection", "Bias detection and mitigation", "training", T,
       ["Annex XI, Section 1, point 2(c)", f"{FORM} 6 (Measures to detect identifiable biases)"], AUTHORITIES, {P}),
    _f("training_compute_flop", "Training compute (FLOP)", "training", NUM,
       ["Annex XI, Section 1, point 2(d)", f"{FORM} 7 (Amount of computation used for training)"], AUTHORITIES, {P}),
    _f("training_time", "Training time", "training", T,
       ["Annex XI, Section 1, point 2(d)", f"{FORM} 7 (Training time)"], AUTHORITIES, {P}),
    _f("training_energy_kwh", "Training energy (kWh)", "training", NUM,
       ["Annex XI, Section 1, point 2(e)", f"{FORM} 8 (Amount of energy used for training)"], AUTHORITIES, {P}),
    _f("energy_methodology", "Energy: how it was measured or estimated", "training", T,
       ["Annex XI, Section 1, point 2(e), second subparagraph", f"{FORM} 8 (Methodology)"], AUTHORITIES, set()),
    # Systemic risk (Art. 51): Annex XI Section 2 and Art. 55(1)
    _f("evaluation_strategies", "Evaluation strategies", "systemic_risk", T,
       ["Annex XI, Section 2, point 1", "Art. 55(1)(a)"], AUTHORITIES, {P}, True),
    _f("evaluation_results", "Evaluation results", "systemic_risk", T,
       ["Annex XI, Section 2, point 1"], AUTHORITIES, {P}, True),
    _f("adversarial_testing", "Adversarial testing (red teaming), adaptations and alignment", "systemic_risk", T,
       ["Annex XI, Section 2, point 2", "Art. 55(1)(a)"], AUTHORITIES, {P}, True),
    _f("system_architecture", "System architecture (how components feed into each other)", "systemic_risk", T,
       ["Annex XI, Section 2, point 3"], AUTHORITIES, set(), True),
    _f("risk_assessment", "Systemic risk assessment and mitigation", "systemic_risk", T,
       ["Art. 55(1)(b)"], {Audience.AI_OFFICE}, {P}, True),
)  # fmt: skip
FIELDS: dict[str, FieldSpec] = {spec.name: spec for spec in CATALOGUE}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def required_fields(role: str, systemic_risk: bool) -> list[str]:
    """The names a record in this role and risk tier must fill, in catalogue order."""
    return [spec.name for spec in CATALOGUE if spec.required(role, systemic_risk)]


def is_filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return any(str(v).strip() for v in value)
    return True


def _text_error(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return "Expected text."
    if "\x00" in value:
        return "Text may not contain NUL characters."
    if len(value) > limit:
        return f"At most {limit} characters."
    return None


def _date_error(value: Any) -> str | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return "Expected a date as YYYY-MM-DD."
    try:
        date.fromisoformat(value)
    except ValueError:
        return "Not a calendar date."
    return None


def _integer_error(value: Any) -> str | None:
    whole = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
    if isinstance(value, bool) or not whole:
        return "Expected a whole number."
    return None if 0 <= value <= 10**18 else "Expected a whole number between 0 and 10^18."


def _number_error(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Expected a number."
    return None if math.isfinite(value) and 0 <= value <= 1e40 else "Expected a number between 0 and 1e40."


def _list_error(value: Any) -> str | None:
    if not isinstance(value, list):
        return "Expected a list of texts."
    if len(value) > MAX_ITEMS:
        return f"At most {MAX_ITEMS} entries."
    errors = [_text_error(item, MAX_ITEM_TEXT) for item in value]
    return next((f"Entry {i + 1}: {e}" for i, e in enumerate(errors) if e), None)


_CHECKS = {
    ValueType.TEXT: lambda value: _text_error(value, MAX_TEXT),
    ValueType.DATE: _date_error,
    ValueType.INTEGER: _integer_error,
    ValueType.NUMBER: _number_error,
    ValueType.LIST: _list_error,
}


def field_error(name: str, value: Any) -> str | None:
    """Why ``value`` does not fit the catalogue's field ``name``, or None; null always fits (it clears)."""
    spec = FIELDS.get(name)
    if spec is None:
        return "Not a documentation field."
    return None if value is None else _CHECKS[spec.type](value)


def as_stored(values: dict[str, Any]) -> dict[str, Any]:
    """Values read back from the database in the catalogue's types.

    PostgreSQL's jsonb keeps numbers as decimals and gives 8.4e22 back as the integer 84000000000000000000000;
    a number field is a float again here, so that a value saved unchanged compares equal and diffs stay empty.
    """
    return {
        name: float(value)
        if isinstance(value, int)
        and not isinstance(value, bool)
        and name in FIELDS
        and FIELDS[name].type == ValueType.NUMBER
        else value
        for name, value in values.items()
    }


def normalise(name: str, value: Any) -> Any:
    """The stored form of a valid value: text trimmed, empty text or list as null, list entries trimmed."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        items = [item.strip() for item in value if item.strip()]
        return items or None
    if isinstance(value, float) and FIELDS[name].type == ValueType.INTEGER:
        return int(value)
    if isinstance(value, int) and FIELDS[name].type == ValueType.NUMBER:
        return float(value)
    return value
