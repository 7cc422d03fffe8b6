"""Every real Hugging Face card in the corpus prefills a record, which is then edited twice, frozen and diffed.

The corpus is ``tests/data/realworld/model-cards`` (see its SOURCES.md). A card whose ``base_model`` is
registered first becomes an adaptation, so its dependencies come from the lineage.
"""

import pytest

from fmgov.documentation.choices import Provenance
from fmgov.documentation.fields import FIELDS, field_error
from fmgov.registry.model_cards import parse_model_card
from fmgov.registry.models import FoundationModel
from fmgov.registry.services import model_card_import
from fmgov.registry.tests.factories import FoundationModelFactory
from tests.data import REALWORLD_DIR

pytestmark = pytest.mark.django_db

CARDS = sorted((REALWORLD_DIR / "model-cards").glob("*.md"))


def _import(engineer, path):
    text = path.read_bytes().decode("utf-8")
    for base in parse_model_card(text).base_models:
        FoundationModelFactory(owner=engineer, name=base.rpartition("/")[2], hf_repo_id=base)
    repo = path.name.removesuffix(".md").replace("__", "/", 1)
    return model_card_import(actor=engineer, card=text, hf_repo_id=repo).record


def _url(record) -> str:
    kind = "foundation-models" if record.__class__.__name__ == "FoundationModel" else "adaptations"
    return f"/api/v1/{kind}/{record.pk}/documentation/"


def test_the_corpus_is_here():
    assert len(CARDS) == 10


@pytest.mark.parametrize("path", CARDS, ids=[p.name for p in CARDS])
def test_each_real_card_prefills_then_is_edited_twice_frozen_and_diffed(client_for, engineer, path):
    target = _import(engineer, path)
    client = client_for(engineer)
    created = client.put(_url(target), {}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert all(field_error(name, value) is None for name, value in body["fields"].items())
    assert set(body["provenance"]) == set(body["fields"]) and set(body["provenance"].values()) <= set(Provenance.values)
    assert Provenance.IMPORTED_FROM_CARD in body["provenance"].values()
    if target.license:
        assert body["fields"]["licence"] == target.license
        assert body["provenance"]["licence"] == Provenance.IMPORTED_FROM_CARD
    if target.__class__.__name__ == "Adaptation":
        assert body["provenance"]["dependencies"] == Provenance.DERIVED_FROM_LINEAGE
        parents = FoundationModel.objects.filter(child_edges__child=target).order_by("pk")
        assert body["fields"]["dependencies"] == [f"{p.name} {p.version}" for p in parents]

    client.put(_url(target), {"fields": {"acceptable_use_policy": "https://example.org/aup"}}, format="json")
    edited = client.put(
        _url(target), {"fields": {"licence": "proprietary", "eu_market_date": "2025-10-01"}}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["version"] == 3
    assert client.post(_url(target) + "freeze/").json()["last_frozen"]["version"] == 3
    versions = client.get(_url(target) + "versions/").json()["results"]
    assert [v["version"] for v in versions] == [3, 2, 1] and versions[0]["frozen_at"] is not None
    assert versions[1]["diff"] == {
        "added": {"acceptable_use_policy": "https://example.org/aup"},
        "removed": {},
        "changed": {},
    }
    latest = versions[0]["diff"]
    if target.license:
        assert latest["added"] == {"eu_market_date": "2025-10-01"}
        assert latest["changed"] == {"licence": {"old": target.license, "new": "proprietary"}}
    else:  # the card names no licence: entering one adds it
        assert latest["added"] == {"eu_market_date": "2025-10-01", "licence": "proprietary"}
        assert latest["changed"] == {}
    assert set(versions[2]["diff"]["added"]) == set(body["fields"]) <= set(FIELDS)


def test_what_the_teenytinyllama_card_states_is_taken_from_its_text(engineer, client_for):
    target = _import(engineer, REALWORLD_DIR / "model-cards" / "nicholasKluge__TeenyTinyLlama-160m.md")
    body = client_for(engineer).get(_url(target)).json()
    fields, provenance = body["fields"], body["provenance"]
    assert fields["parameter_count"] == 162_417_408 and provenance["parameter_count"] == "imported_from_card"
    assert fields["max_input_size"].startswith("2048 tokens")
    assert fields["intended_uses"].startswith("The primary intended use of TeenyTinyLlama is to research")
    assert fields["restricted_uses"].startswith("TeenyTinyLlama is not intended for deployment.")
    assert fields["evaluation_results"].count("\n") == 8  # the nine model-index metrics


def test_an_embedding_card_says_what_goes_in_and_out(engineer, client_for):
    target = _import(engineer, REALWORLD_DIR / "model-cards" / "sentence-transformers__all-MiniLM-L6-v2.md")
    body = client_for(engineer).get(_url(target)).json()
    assert body["fields"]["input_modalities"] == ["text"]
    assert body["fields"]["output_modalities"] == ["embedding vector"]
    assert body["provenance"]["output_modalities"] == "imported_from_card"
