"""What the registry, the lineage and an imported model card already say, as documentation fields.

Each value carries its provenance: ``derived_from_registry`` (a registry field), ``derived_from_lineage`` (the
adaptation's ancestors), or ``imported_from_card`` (the Hugging Face card stored with the record at import, or a
registry value the card import set). A registry value wins over the card's words; nothing here writes.
"""

from __future__ import annotations

import re
from typing import Any

from fmgov.documentation.choices import Provenance
from fmgov.documentation.fields import FIELDS, MAX_TEXT, field_error, normalise
from fmgov.registry.choices import Access, Modality
from fmgov.registry.model_cards import PIPELINE_MODALITY, card_licence, eval_results_of
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.registry.selectors import adaptation_lineage

__all__ = ["prefill", "card_facts"]

REGISTRY, CARD, LINEAGE = (
    Provenance.DERIVED_FROM_REGISTRY,
    Provenance.IMPORTED_FROM_CARD,
    Provenance.DERIVED_FROM_LINEAGE,
)

# The registry's modality as (inputs, outputs): what a model of that kind usually takes and gives.
MODALITY_IO: dict[str, tuple[list[str], list[str]]] = {
    Modality.TEXT: (["text"], ["text"]),
    Modality.CODE: (["text"], ["text"]),
    Modality.EMBEDDING: (["text"], ["embedding vector"]),
    Modality.MULTIMODAL: (["text", "image"], ["text"]),
    Modality.IMAGE: (["text"], ["image"]),
    Modality.AUDIO: (["audio"], ["text"]),
    Modality.VIDEO: (["text"], ["video"]),
}
# A card's pipeline tag says more precisely what goes in and out than the registry's modality.
PIPELINE_IO: dict[str, tuple[list[str], list[str]]] = {
    "text-to-image": (["text"], ["image"]),
    "image-to-image": (["image"], ["image"]),
    "image-to-text": (["image"], ["text"]),
    "image-text-to-text": (["text", "image"], ["text"]),
    "visual-question-answering": (["text", "image"], ["text"]),
    "automatic-speech-recognition": (["audio"], ["text"]),
    "text-to-speech": (["text"], ["audio"]),
    "text-to-audio": (["text"], ["audio"]),
    "text-to-video": (["text"], ["video"]),
    "sentence-similarity": (["text"], ["embedding vector"]),
    "feature-extraction": (["text"], ["embedding vector"]),
    "text-classification": (["text"], ["label"]),
    "token-classification": (["text"], ["label"]),
    "zero-shot-classification": (["text"], ["label"]),
}
_CONTEXT = re.compile(r"(?i)context[ -](?:length|window|size)\W{0,12}(\d{1,3}(?:,\d{3})+|\d{3,})\s*tokens")
_PARAMETERS = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3}){2,}|\d{7,})\s+parameters\b")
_HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
_INTENDED = re.compile(r"(?i)^(intended uses?|uses|direct use)\b")
_OUT_OF_SCOPE = re.compile(r"(?i)^out[- ]of[- ]scope")


def _section(body: str, title: re.Pattern[str]) -> str:
    """The text under the first heading whose title matches, up to the next heading as high (code fences skipped)."""
    lines, found, level, fence = [], False, 0, False
    for line in body.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        heading = None if fence else _HEADING.match(line)
        if found:
            if heading and len(heading.group(1)) <= level:
                break
            lines.append(line)
        elif heading and title.match(heading.group(2).strip("*_ ")):
            found, level = True, len(heading.group(1))
    return "\n".join(lines).strip()[:MAX_TEXT]


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip()[:500] for v in value if v is not None and str(v).strip()][:100]
    return [str(value).strip()[:500]] if value not in (None, "") else []


def _evaluation_lines(front: dict[str, Any]) -> str:
    lines = []
    for result in eval_results_of(front)[:200]:
        dataset = result.get("dataset_name") or result.get("dataset_type") or "?"
        metric = result.get("metric_name") or result.get("metric_type") or "?"
        lines.append(f"{result.get('task_type', '?')} / {dataset}: {metric} = {result.get('metric_value')}")
    return "\n".join(lines)[:MAX_TEXT]


def card_facts(obj: FoundationModel | Adaptation) -> dict[str, Any]:
    """Documentation values the record's imported card states (front matter and Markdown body)."""
    front = obj.model_card_metadata if isinstance(obj.model_card_metadata, dict) else {}
    body = obj.model_card or ""
    if not front and not body.strip():
        return {}
    facts: dict[str, Any] = {
        "licence": card_licence(front),
        "dependencies": _as_list(front.get("base_model")),
        "intended_uses": _section(body, _INTENDED),
        "restricted_uses": _section(body, _OUT_OF_SCOPE),
        "evaluation_results": _evaluation_lines(front),
    }
    datasets = _as_list(front.get("datasets"))
    if datasets:
        facts["training_data_provenance"] = f"Datasets named in the model card: {', '.join(datasets)}."
    tag = str(front.get("pipeline_tag") or "")
    io = PIPELINE_IO.get(tag) or next(
        (MODALITY_IO[m] for m, tags in PIPELINE_MODALITY.items() if tag in tags and m in MODALITY_IO), None
    )
    if io:
        facts["input_modalities"], facts["output_modalities"] = list(io[0]), list(io[1])
    if front.get("library_name"):
        facts["required_software"] = f"Hugging Face library: {str(front['library_name'])[:200]}"
    if match := _CONTEXT.search(body):
        facts["max_input_size"] = f"{match.group(1)} tokens (context length stated in the model card)"
    if match := _PARAMETERS.search(body):
        facts["parameter_count"] = int(match.group(1).replace(",", ""))
    return {name: value for name, value in facts.items() if value not in ("", [], None)}


def _registry_facts(obj: FoundationModel | Adaptation) -> dict[str, tuple[Any, str]]:
    is_model = isinstance(obj, FoundationModel)
    siblings = type(obj).objects.filter(name=obj.name).order_by("created_at", "pk").values_list("version", flat=True)
    facts: dict[str, tuple[Any, str]] = {
        "model_name": (obj.name, REGISTRY),
        "model_versions": (list(siblings), REGISTRY),
        "authenticity_evidence": (f"SHA-256 {obj.artifact_digest}" if obj.artifact_digest else None, REGISTRY),
        "licence": (obj.license, REGISTRY),
    }
    channels = [f"Hugging Face Hub: {obj.hf_repo_id}"] if obj.hf_repo_id else []
    if is_model:
        if obj.access == Access.API:
            channels.append("API")
        elif obj.access == Access.OPEN_WEIGHTS and not channels:
            channels.append("Open weights")
        inputs, outputs = MODALITY_IO.get(obj.modality, (None, None))
        facts |= {
            "provider_legal_name": (obj.provider, REGISTRY),
            "release_date": (obj.release_date.isoformat() if obj.release_date else None, REGISTRY),
            "architecture": (obj.architecture, REGISTRY),
            "parameter_count": (obj.parameter_count, REGISTRY),
            "input_modalities": (inputs, REGISTRY),
            "output_modalities": (outputs, REGISTRY),
            "intended_uses": (obj.intended_uses, REGISTRY),
            "restricted_uses": (obj.out_of_scope_uses, REGISTRY),
            "training_data_provenance": (obj.training_data_summary, REGISTRY),
            "training_compute_flop": (obj.training_compute_flop, REGISTRY),
            "training_energy_kwh": (obj.training_energy_kwh, REGISTRY),
        }
    else:
        facts |= {
            "intended_uses": (obj.purpose, REGISTRY),
            "training_data_provenance": (obj.data_summary, REGISTRY),
        }
    facts["distribution_channels"] = (channels, REGISTRY)
    return facts


def _lineage_facts(adaptation: Adaptation) -> dict[str, tuple[Any, str]]:
    """Dependencies are the ancestors, nearest first; modalities those of the foundation models it rests on."""
    ancestors = adaptation_lineage(adaptation_id=adaptation.pk)
    facts: dict[str, tuple[Any, str]] = {
        "dependencies": ([f"{row['name']} {row['version']}" for row in ancestors], LINEAGE)
    }
    roots = [row["id"] for row in ancestors if row["kind"] == "foundation_model"]
    modalities = FoundationModel.objects.filter(pk__in=roots).order_by("pk").values_list("modality", flat=True)
    inputs: list[str] = []
    outputs: list[str] = []
    for modality in modalities:
        ins, outs = MODALITY_IO.get(modality, ([], []))
        inputs += [m for m in ins if m not in inputs]
        outputs += [m for m in outs if m not in outputs]
    facts["input_modalities"] = (inputs, LINEAGE)
    facts["output_modalities"] = (outputs, LINEAGE)
    return facts


def prefill(obj: FoundationModel | Adaptation) -> tuple[dict[str, Any], dict[str, str]]:
    """(fields, provenance) for a new record: registry and lineage first, then what only the card says.

    A registry value that equals the card's (the card import set it) is credited to the card. A value that does
    not fit the catalogue (a card can say anything) is left out rather than refused: the engineer fills it in.
    """
    card = card_facts(obj)
    candidates = _registry_facts(obj)
    if isinstance(obj, Adaptation):
        candidates |= _lineage_facts(obj)
    fields: dict[str, Any] = {}
    provenance: dict[str, str] = {}
    for name, (value, source) in candidates.items():
        value = normalise(name, value) if field_error(name, value) is None else None
        if value is not None:
            fields[name] = value
            provenance[name] = CARD if card.get(name) == value else source
    for name, value in card.items():
        if name in FIELDS and name not in fields and field_error(name, value) is None:
            value = normalise(name, value)
            if value is not None:
                fields[name], provenance[name] = value, CARD
    return fields, provenance
