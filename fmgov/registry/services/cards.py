"""Model-card import: a Hugging Face model card becomes a registry record.

A card is turned into a foundation model or, when its ``base_model`` names a
registered record, an adaptation of it; importing the same card again updates
the record. The create/update services of those records write the audit
events, so an import is audited exactly like a hand-made change. Credentials
in the card are stored redacted; the events' context says which kinds
(``"redacted": [...]``).
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from audits.context import bind_context
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.choices import Access
from fmgov.registry.model_cards import ParsedCard, infer_adaptation_kind, infer_modality, parse_model_card
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.registry.services._common import _ensure_writer
from fmgov.registry.services.adaptations import adaptation_create, adaptation_update
from fmgov.registry.services.foundation_models import foundation_model_create, foundation_model_update

__all__ = ["CardImport", "model_card_import"]

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class CardImport:
    """What an import did: the record, whether it was new, and base models not in the registry."""

    record: FoundationModel | Adaptation
    created: bool
    unresolved_base_models: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "adaptation" if isinstance(self.record, Adaptation) else "foundation_model"


def _find_by_repo(model: type[FoundationModel] | type[Adaptation], repo: str) -> FoundationModel | Adaptation | None:
    return model.objects.filter(hf_repo_id__iexact=repo).order_by("-id").first() if repo else None


@transaction.atomic
def model_card_import(
    *,
    actor: Actor,
    card: str,
    hf_repo_id: str = "",
    name: str = "",
    version: str = "",
    provider: str = "",
    modality: str = "",
    access: str = "",
    kind: str = "",
) -> CardImport:
    """Create or update a record from a Hugging Face model card.

    A card whose ``base_model`` names a registered model or adaptation (by
    Hugging Face repo id) becomes an adaptation of it; any other card a
    foundation model. The record is found again by repo id (or name and
    version), so importing the same card twice updates rather than duplicates.
    The create/update services record the audit events.
    """
    _ensure_writer(actor)
    hf_repo_id = hf_repo_id.strip()
    if hf_repo_id and not _REPO_ID.match(hf_repo_id):
        raise InvalidInput("Not a Hugging Face repo id.", field_errors={"hf_repo_id": ["Expected owner/name."]})
    parsed = parse_model_card(card)
    repo = hf_repo_id or parsed.repo_id_in_title
    name = name.strip() or repo.rpartition("/")[2] or parsed.model_index_name or parsed.title.rpartition("/")[2]
    if not name:
        message = "The card names no model: give a name or the Hugging Face repo id."
        raise InvalidInput(message, field_errors={"name": [message]})
    parents, unresolved = _resolve_base_models(parsed)
    target = _CardTarget(actor=actor, parsed=parsed, repo=repo, name=name, version=version)
    # The audit events of this import carry which kinds of credential were scrubbed from the card.
    with bind_context(model_card_import=repo or name, redacted=list(parsed.redacted) or None):
        if parents["derived_from_models"] or parents["derived_from_adaptations"]:
            record, created = _import_adaptation(target, parents, kind=kind)
        else:
            given = {"version": version, "provider": provider, "modality": modality, "access": access}
            record, created = _import_foundation_model(target, {k: v for k, v in given.items() if v})
    return CardImport(record, created, unresolved)


@dataclass(frozen=True)
class _CardTarget:
    """What both record kinds need from one import: who, the parsed card, and the names it is found by."""

    actor: Actor
    parsed: ParsedCard
    repo: str
    name: str
    version: str

    def common_fields(self) -> dict[str, Any]:
        fields = {
            "license": self.parsed.license,
            "model_card": self.parsed.body,
            "model_card_metadata": self.parsed.metadata(),
        }
        if self.repo:
            fields["hf_repo_id"] = self.repo
        return fields

    def datasets(self) -> str:
        named = self.parsed.datasets
        return f"Datasets named in the model card: {', '.join(named)}." if named else ""

    def existing(self, model: type[FoundationModel] | type[Adaptation]) -> FoundationModel | Adaptation | None:
        return (
            _find_by_repo(model, self.repo) or model.objects.filter(name=self.name, version=self.version or "1").first()
        )


def _resolve_base_models(parsed: ParsedCard) -> tuple[dict[str, list[int]], list[str]]:
    """The card's base models as registered parents (models, adaptations) and the names not registered."""
    parent_models, parent_adaptations, unresolved = [], [], []
    for base in parsed.base_models:
        if found := _find_by_repo(FoundationModel, base):
            parent_models.append(found.pk)
        elif found := _find_by_repo(Adaptation, base):
            parent_adaptations.append(found.pk)
        else:
            unresolved.append(base)
    return {"derived_from_models": parent_models, "derived_from_adaptations": parent_adaptations}, unresolved


def _import_adaptation(target: _CardTarget, parents: dict[str, list[int]], *, kind: str) -> tuple[Adaptation, bool]:
    existing = target.existing(Adaptation)
    fields = target.common_fields()
    if kind:
        fields["kind"] = kind
    if target.version:
        fields["version"] = target.version
    datasets = target.datasets()
    if datasets and not (existing and existing.data_summary):
        fields["data_summary"] = datasets
    if existing:
        return adaptation_update(adaptation=existing, actor=target.actor, **parents, **fields), False
    fields.setdefault("kind", infer_adaptation_kind(target.parsed, target.repo or target.name))
    return adaptation_create(actor=target.actor, name=target.name, **parents, **fields), True


def _import_foundation_model(target: _CardTarget, given: dict[str, str]) -> tuple[FoundationModel, bool]:
    existing = target.existing(FoundationModel)
    fields = {**target.common_fields(), **given}
    if target.parsed.emissions_grams is not None:
        fields["training_emissions_tco2e"] = target.parsed.emissions_grams / 1_000_000  # grams → tonnes
    datasets = target.datasets()
    if datasets and not (existing and existing.training_data_summary):
        fields["training_data_summary"] = datasets
    if existing:
        return foundation_model_update(foundation_model=existing, actor=target.actor, **fields), False
    fields.setdefault("provider", target.repo.partition("/")[0] if target.repo else "")
    fields.setdefault("modality", infer_modality(target.parsed) or "")
    fields.setdefault("access", Access.OPEN_WEIGHTS)  # a card on the Hub is usually for published weights
    errors = {}
    if not fields["provider"]:
        errors["provider"] = ["The card does not say who provides the model: give provider or hf_repo_id."]
    if not fields["modality"]:
        errors["modality"] = ["The card has no pipeline_tag or other sign of its modality: give modality."]
    if errors:
        raise InvalidInput("The card lacks facts the registry needs.", field_errors=errors)
    return foundation_model_create(actor=target.actor, name=target.name, **fields), True
