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

from django.db import transaction

from audits.context import bind_context
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.choices import Access
from fmgov.registry.model_cards import infer_adaptation_kind, infer_modality, parse_model_card
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.registry.services._common import Actor, _ensure_writer
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
def model_card_import(  # noqa: C901 -- to be split (create or update, model or adaptation)
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

    parent_models, parent_adaptations, unresolved = [], [], []
    for base in parsed.base_models:
        if found := _find_by_repo(FoundationModel, base):
            parent_models.append(found.pk)
        elif found := _find_by_repo(Adaptation, base):
            parent_adaptations.append(found.pk)
        else:
            unresolved.append(base)

    common = {"license": parsed.license, "model_card": parsed.body, "model_card_metadata": parsed.metadata()}
    if repo:
        common["hf_repo_id"] = repo
    datasets = f"Datasets named in the model card: {', '.join(parsed.datasets)}." if parsed.datasets else ""

    # The audit events of this import carry which kinds of credential were scrubbed from the card.
    with bind_context(model_card_import=repo or name, redacted=list(parsed.redacted) or None):
        if parent_models or parent_adaptations:
            existing = (
                _find_by_repo(Adaptation, repo) or Adaptation.objects.filter(name=name, version=version or "1").first()
            )
            fields = {**common, **({"kind": kind} if kind else {}), **({"version": version} if version else {})}
            if datasets and not (existing and existing.data_summary):
                fields["data_summary"] = datasets
            parents = {"derived_from_models": parent_models, "derived_from_adaptations": parent_adaptations}
            if existing:
                record = adaptation_update(adaptation=existing, actor=actor, **parents, **fields)
                return CardImport(record, False, unresolved)
            fields.setdefault("kind", infer_adaptation_kind(parsed, repo or name))
            record = adaptation_create(actor=actor, name=name, **parents, **fields)
            return CardImport(record, True, unresolved)

        existing = (
            _find_by_repo(FoundationModel, repo)
            or FoundationModel.objects.filter(name=name, version=version or "1").first()
        )
        fields = dict(common)
        for key, value in (("version", version), ("provider", provider), ("modality", modality), ("access", access)):
            if value:
                fields[key] = value
        if parsed.emissions_grams is not None:
            fields["training_emissions_tco2e"] = parsed.emissions_grams / 1_000_000  # grams → tonnes
        if datasets and not (existing and existing.training_data_summary):
            fields["training_data_summary"] = datasets
        if existing:
            record = foundation_model_update(foundation_model=existing, actor=actor, **fields)
            return CardImport(record, False, unresolved)
        fields.setdefault("provider", repo.partition("/")[0] if repo else "")
        fields.setdefault("modality", infer_modality(parsed) or "")
        fields.setdefault("access", Access.OPEN_WEIGHTS)  # a card on the Hub is usually for published weights
        errors = {}
        if not fields["provider"]:
            errors["provider"] = ["The card does not say who provides the model: give provider or hf_repo_id."]
        if not fields["modality"]:
            errors["modality"] = ["The card has no pipeline_tag or other sign of its modality: give modality."]
        if errors:
            raise InvalidInput("The card lacks facts the registry needs.", field_errors=errors)
        record = foundation_model_create(actor=actor, name=name, **fields)
        return CardImport(record, True, unresolved)
