"""Hugging Face model cards: parse a README.md into registry facts, and render one back.

Parsing uses ``huggingface_hub``: ``ModelCard`` splits the YAML front matter
from the Markdown body (it copes with CRLF line endings) and ``ModelCardData``
reads licence, base model(s), pipeline tag and the ``model-index`` results as
``EvalResult`` objects. The raw front matter is also kept as loaded, because
``ModelCardData`` regroups ``model-index`` results and drops an index it cannot
read; an auditor wants what the card said.

``model_card_metadata`` holds the front matter itself, as JSON: its
``model-index`` is what the evaluations app reads as external evidence
(``fmgov.evaluations.evaluators.lm_eval_import.parse_model_index``), and
``eval_results_of`` flattens it to one dict per reported metric.

Cards are untrusted: the front matter is loaded without anchors or aliases
(no alias bomb), nested at most 64 levels, and credentials anywhere in the
card are redacted before anything is stored.

Nothing here writes to the database; ``services.model_card_import`` does.
"""

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from huggingface_hub import ModelCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK
from huggingface_hub.repocard_data import model_index_to_eval_results

from fmgov.core.exceptions import InvalidInput
from fmgov.core.jsonlimits import JSONTooDeep, check_json_depth
from fmgov.core.redaction import redact_mapping, redact_text
from fmgov.registry.choices import AdaptationKind, Modality

__all__ = [
    "ParsedCard",
    "parse_model_card",
    "load_front_matter",
    "render_model_card",
    "eval_results_of",
    "card_licence",
    "infer_modality",
    "infer_adaptation_kind",
]

MAX_CARD_BYTES = 2 * 1024 * 1024

# Hugging Face pipeline tags to registry modalities.
PIPELINE_MODALITY = {
    Modality.TEXT: {
        "text-generation",
        "text2text-generation",
        "summarization",
        "translation",
        "fill-mask",
        "question-answering",
        "table-question-answering",
        "text-classification",
        "token-classification",
        "zero-shot-classification",
        "conversational",
        "text-ranking",
    },
    Modality.EMBEDDING: {"sentence-similarity", "feature-extraction"},
    Modality.MULTIMODAL: {
        "image-text-to-text",
        "visual-question-answering",
        "document-question-answering",
        "image-to-text",
        "any-to-any",
        "video-text-to-text",
        "zero-shot-image-classification",
    },
    Modality.IMAGE: {
        "text-to-image",
        "image-to-image",
        "image-classification",
        "image-segmentation",
        "object-detection",
        "unconditional-image-generation",
        "depth-estimation",
        "mask-generation",
    },
    Modality.AUDIO: {
        "automatic-speech-recognition",
        "text-to-speech",
        "text-to-audio",
        "audio-classification",
        "audio-to-audio",
        "voice-activity-detection",
    },
    Modality.VIDEO: {"text-to-video", "video-classification", "image-to-video"},
}
# The registry's modality back to the most usual pipeline tag, for export.
MODALITY_PIPELINE = {
    Modality.TEXT: "text-generation",
    Modality.EMBEDDING: "sentence-similarity",
    Modality.MULTIMODAL: "image-text-to-text",
    Modality.IMAGE: "text-to-image",
    Modality.AUDIO: "automatic-speech-recognition",
    Modality.VIDEO: "text-to-video",
    Modality.CODE: "text-generation",
}
RELATION_KIND = {
    "adapter": AdaptationKind.LORA,
    "finetune": AdaptationKind.FINE_TUNE,
    "quantized": AdaptationKind.QUANTIZATION,
    "merge": AdaptationKind.OTHER,
}
_QUANTISED_NAME = re.compile(r"(?i)(\d+-?bit|gguf|awq|gptq|exl2|int[48]\b|\bq[2-8]_)")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _json_safe(value: Any) -> Any:
    """YAML gives dates, NaN and the like; JSON columns take only plain JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value).strip()]


@dataclass
class ParsedCard:
    """What a card says, in the shapes the registry needs."""

    front_matter: dict[str, Any]
    body: str
    license: str = ""
    base_models: list[str] = field(default_factory=list)
    pipeline_tag: str = ""
    datasets: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    library_name: str = ""
    model_index_name: str = ""
    eval_results: list[dict[str, Any]] = field(default_factory=list)
    emissions_grams: float | None = None
    redacted: tuple[str, ...] = ()  # kinds of credential scrubbed from the card

    @property
    def title(self) -> str:
        match = _HEADING.search(self.body)
        return match.group(1).strip() if match else ""

    @property
    def repo_id_in_title(self) -> str:
        """Converted models often title their card with their own repo id (``owner/name``)."""
        return self.title if _REPO_ID.match(self.title) else ""

    def metadata(self) -> dict[str, Any]:
        return self.front_matter


def card_licence(front: dict[str, Any]) -> str:
    """The card's licence as one string: a list joined, \"other\" with the name the card gives."""
    licence = front.get("license")
    if isinstance(licence, list):  # some cards list several
        licence = ", ".join(str(x) for x in licence)
    licence = str(licence or "").strip()
    if licence == "other" and front.get("license_name"):
        # "other" alone tells a reviewer nothing; keep the name the card gives.
        licence = f"other ({str(front['license_name']).strip()})"
    return licence[:100]


def _emissions_grams(value: Any) -> float | None:
    """``co2_eq_emissions`` is grams, either a number or a dict with ``emissions``."""
    if isinstance(value, dict):
        value = value.get("emissions")
    try:
        grams = float(value)
    except (TypeError, ValueError):
        return None
    return grams if math.isfinite(grams) and grams >= 0 else None


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses anchors and aliases before anything is expanded.

    Nested aliases grow exponentially (a few hundred bytes become millions of
    nodes); model cards have no need for them, so the first one is an error.
    """

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors and aliases (&, *) are not accepted in a model card", event.start_mark
            )
        return super().compose_node(parent, index)


def load_front_matter(text: str) -> Any:
    """The YAML front matter as plain data, refusing anchors and aliases (``yaml.YAMLError``)."""
    return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass


def _yaml_error(exc: Exception) -> InvalidInput:
    message = f"The YAML front matter could not be read: {str(exc).splitlines()[0] if str(exc) else exc}"
    return InvalidInput(message, field_errors={"card": [message]})


def parse_model_card(text: str) -> ParsedCard:
    """Parse a model card README; a malformed front matter is a 400 on ``card``.

    The front matter is read by the alias-refusing loader before ``huggingface_hub``
    (whose own ``safe_load`` would expand an alias bomb) sees the card; every
    string kept is scrubbed of credentials (``ParsedCard.redacted`` lists the kinds).
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("The model card is empty.", field_errors={"card": ["Paste or upload a README.md."]})
    if len(text.encode("utf-8", errors="replace")) > MAX_CARD_BYTES:
        raise InvalidInput("The model card is too large.", field_errors={"card": ["At most 2 MiB."]})
    text = text.lstrip("\ufeff")
    try:
        match = REGEX_YAML_BLOCK.search(text)
        front = load_front_matter(match.group(2)) if match else {}
        card = ModelCard(text, ignore_metadata_errors=True)
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise _yaml_error(exc)
    front = _json_safe(front or {})
    try:
        check_json_depth(front)
    except JSONTooDeep as exc:
        raise _yaml_error(exc)
    front, in_front = redact_mapping(front)
    body = redact_text(card.text.replace("\r\n", "\n").strip("\n") + "\n")
    data = card.data
    base_models, in_bases = redact_mapping(_as_list(data.base_model))
    model_index_name = redact_text(str(data.model_name or ""))
    eval_results, in_results = redact_mapping(_flatten(data.eval_results))
    return ParsedCard(
        front_matter=front,
        body=body.text,
        license=card_licence(front),
        base_models=base_models,
        pipeline_tag=str(front.get("pipeline_tag") or ""),
        datasets=_as_list(front.get("datasets")),
        tags=[t.lower() for t in _as_list(front.get("tags"))],
        library_name=str(front.get("library_name") or ""),
        model_index_name=model_index_name.text,
        eval_results=eval_results,
        emissions_grams=_emissions_grams(front.get("co2_eq_emissions")),
        redacted=tuple(sorted({*in_front, *body.kinds, *in_bases, *model_index_name.kinds, *in_results})),
    )


def _flatten(results) -> list[dict[str, Any]]:
    return [
        _json_safe({k: v for k, v in vars(r).items() if k != "verify_token" and v is not None}) for r in results or []
    ]


def eval_results_of(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's ``model-index`` as one flat dict per metric (``EvalResult`` fields); [] if unreadable."""
    index = metadata.get("model-index") if isinstance(metadata, dict) else None
    if not index:
        return []
    try:
        _, results = model_index_to_eval_results(index)
    except (KeyError, TypeError, ValueError, AttributeError):
        return []
    return _flatten(results)


def infer_modality(card: ParsedCard) -> str | None:
    """The modality the card implies, or None when it says nothing usable."""
    for modality, tags in PIPELINE_MODALITY.items():
        if card.pipeline_tag in tags:
            return modality
    signals = set(card.tags) | {card.library_name.lower()}
    for modality, tags in PIPELINE_MODALITY.items():
        if signals & tags:
            return modality
    if "sentence-transformers" in signals:
        return Modality.EMBEDDING
    if "text-generation-inference" in signals:
        return Modality.TEXT
    widgets = card.front_matter.get("widget")
    if isinstance(widgets, list) and any(isinstance(w, dict) and "text" in w for w in widgets):
        return Modality.TEXT  # the hosted widget takes text input
    return None


def infer_adaptation_kind(card: ParsedCard, name: str = "") -> str:
    """How the card's model was derived from its base, from the card's own words."""
    relation = str(card.front_matter.get("base_model_relation") or "").lower()
    if relation in RELATION_KIND:
        return RELATION_KIND[relation]
    tags = set(card.tags) | {card.library_name.lower()}
    if card.front_matter.get("quantized_by") or tags & {"gguf", "awq", "gptq", "exl2"} or _QUANTISED_NAME.search(name):
        return AdaptationKind.QUANTIZATION
    if tags & {"peft", "lora", "qlora"}:
        return AdaptationKind.LORA
    if tags & {"dpo", "rlhf", "rlaif", "ppo", "orpo"}:
        return AdaptationKind.RLHF
    if "distillation" in tags:
        return AdaptationKind.DISTILLATION
    return AdaptationKind.FINE_TUNE


def _dump(front: dict[str, Any]) -> str:
    return yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)


def render_model_card(obj, *, base_models: list[str] | None = None) -> str:
    """A card in the format imported: the stored front matter updated with the registry's facts.

    ``base_models`` (for an adaptation) are the repo ids or names of its parents.
    The output parses back with ``huggingface_hub.ModelCard``.
    """
    meta = obj.model_card_metadata if isinstance(obj.model_card_metadata, dict) else {}
    front: dict[str, Any] = dict(meta)
    if obj.license != card_licence(front):
        front.pop("license_name", None)
        if obj.license:
            front["license"] = obj.license
        else:
            front.pop("license", None)
    modality = getattr(obj, "modality", "")
    if modality and not meta:  # an imported card keeps its own pipeline tag, or none; no guessing
        front["pipeline_tag"] = MODALITY_PIPELINE.get(modality, "text-generation")
    if base_models is not None:
        if base_models:
            front["base_model"] = base_models[0] if len(base_models) == 1 else base_models
        else:
            front.pop("base_model", None)
    body = obj.model_card.strip("\n") or _generated_body(obj)
    text = f"---\n{_dump(front)}---\n\n{body}\n" if front else f"{body}\n"
    ModelCard(text)  # refuse to hand out a card that does not parse back
    return text


def _generated_body(obj) -> str:
    """A plain card for a record registered by hand, from the registry's own fields."""
    lines = [f"# {obj.name} {obj.version}", ""]
    facts = [
        ("Provider", getattr(obj, "provider", "")),
        ("Kind", obj.get_kind_display() if hasattr(obj, "get_kind_display") else ""),
        ("Modality", obj.get_modality_display() if hasattr(obj, "get_modality_display") else ""),
        ("Architecture", getattr(obj, "architecture", "")),
        ("Parameters", f"{obj.parameter_count:,}" if getattr(obj, "parameter_count", None) else ""),
        ("Release date", getattr(obj, "release_date", "") or ""),
        ("Licence", obj.license),
        ("Artifact digest (SHA-256)", obj.artifact_digest),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts if value]
    sections = [
        ("Purpose", getattr(obj, "purpose", "")),
        ("Intended uses", getattr(obj, "intended_uses", "")),
        ("Out-of-scope uses", getattr(obj, "out_of_scope_uses", "")),
        ("Training data", getattr(obj, "training_data_summary", "") or getattr(obj, "data_summary", "")),
    ]
    for heading, text in sections:
        if text:
            lines += ["", f"## {heading}", "", text]
    return "\n".join(lines)
