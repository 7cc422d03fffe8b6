"""Model-card import and export against real Hugging Face cards, byte for byte as published.

The corpus (``tests/data/realworld/model-cards``, see its SOURCES.md) has CRLF
line endings, a card without a licence, ``license: other``, ``base_model`` as a
list, and ``model-index`` results from one to a thousand metrics.
"""

import pytest
import yaml
from huggingface_hub import ModelCard

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput
from fmgov.registry import services
from fmgov.registry.model_cards import eval_results_of, parse_model_card, render_model_card
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.registry.tests.factories import AdaptationFactory, FoundationModelFactory
from tests.data import REALWORLD_DIR

pytestmark = pytest.mark.django_db

CARDS_DIR = REALWORLD_DIR / "model-cards"
IMPORT = "/api/v1/foundation-models/import-model-card/"


def read_card(filename: str) -> str:
    return (CARDS_DIR / filename).read_bytes().decode("utf-8")


def repo_id(filename: str) -> str:
    return filename.removesuffix(".md").replace("__", "/", 1)


# file -> (licence, modality, metrics in model-index, base models, training emissions in tCO2e)
EXPECTED = {
    "Hodiden__autotrain-TestProj-722121991.md": ("", "text", 0, [], 8.052949236815056e-06),
    "Snowflake__snowflake-arctic-embed-s.md": ("apache-2.0", "embedding", 1050, [], None),
    "argilla__notus-7b-v1.md": ("mit", "text", 9, ["alignment-handbook/zephyr-7b-sft-full"], None),
    "bartowski__Hermes-3-Llama-3.2-3B-GGUF.md": ("llama3", "text", 0, ["NousResearch/Hermes-3-Llama-3.2-3B"], None),
    "emirunlu26__qwen3-4B-finetuned-turkish-youtube-text-summarizer.md": (
        "apache-2.0",
        "text",
        0,
        ["Qwen/Qwen3-4B"],
        None,
    ),
    "mlx-community__Qwen2.5-7B-Instruct-4bit.md": ("apache-2.0", "text", 0, ["Qwen/Qwen2.5-7B"], None),
    "mlx-community__gemma-3-4b-it-qat-4bit.md": (
        "other (qwen)",
        "multimodal",
        0,
        ["OpenGVLab/InternVL3-1B-Instruct"],
        None,
    ),
    "nicholasKluge__TeenyTinyLlama-160m.md": ("apache-2.0", "text", 9, [], 0.0056),
    "nicholasKluge__TeenyTinyLlama-460m-awq.md": ("apache-2.0", "text", 0, [], 0.0411),
    "sentence-transformers__all-MiniLM-L6-v2.md": ("apache-2.0", "embedding", 0, [], None),
}


def test_the_corpus_is_all_here():
    assert sorted(p.name for p in CARDS_DIR.glob("*.md")) == sorted(EXPECTED)
    assert b"\r\n" in (CARDS_DIR / "emirunlu26__qwen3-4B-finetuned-turkish-youtube-text-summarizer.md").read_bytes()


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_every_real_card_imports_as_a_model(client_for, engineer, filename):
    licence, modality, metrics, bases, emissions = EXPECTED[filename]
    text = read_card(filename)
    response = client_for(engineer).post(IMPORT, {"card": text, "hf_repo_id": repo_id(filename)}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "foundation_model" and body["created"] is True
    assert body["unresolved_base_models"] == bases  # none of the bases is registered
    model = FoundationModel.objects.get(pk=body["record"]["id"])
    assert model.hf_repo_id == repo_id(filename)
    assert model.name == repo_id(filename).split("/")[1] and model.provider == repo_id(filename).split("/")[0]
    assert model.license == licence and model.modality == modality and model.access == "open_weights"
    assert model.owner == engineer
    assert "\r" not in model.model_card and model.model_card.strip()
    front = yaml.safe_load(text.split("---", 2)[1])
    assert model.model_card_metadata == front  # the front matter as the card has it (JSON types)
    assert model.model_card_metadata.get("model-index") == front.get("model-index")
    assert len(eval_results_of(model.model_card_metadata)) == metrics
    if emissions is None:
        assert model.training_emissions_tco2e is None
    else:
        assert model.training_emissions_tco2e == pytest.approx(emissions)
    event = AuditEvent.objects.get(action="foundation_model.create", object_id=str(model.pk))
    assert event.actor == engineer and event.context.get("model_card_import") == repo_id(filename)


@pytest.mark.parametrize("filename", sorted(EXPECTED))
def test_every_real_card_exports_and_parses_back(engineer, filename):
    result = services.model_card_import(actor=engineer, card=read_card(filename), hf_repo_id=repo_id(filename))
    exported = render_model_card(result.record)
    card = ModelCard(exported)
    original = parse_model_card(read_card(filename))
    again = parse_model_card(exported)
    assert again.license == original.license
    assert again.base_models == original.base_models
    assert len(again.eval_results) == len(original.eval_results)
    assert again.front_matter == original.front_matter
    assert card.text.strip() == original.body.strip()


def test_a_card_without_a_repo_id_takes_its_name_from_the_card(engineer):
    result = services.model_card_import(
        actor=engineer, card=read_card("nicholasKluge__TeenyTinyLlama-160m.md"), provider="Nicholas Kluge"
    )
    assert result.record.name == "TeenyTinyLlama-160m" and result.record.hf_repo_id == ""
    # A converted model's card titled with its own repo id gives both.
    result = services.model_card_import(actor=engineer, card=read_card("mlx-community__Qwen2.5-7B-Instruct-4bit.md"))
    assert result.record.hf_repo_id == "mlx-community/Qwen2.5-7B-Instruct-4bit"
    assert result.record.provider == "mlx-community"


BASES = {
    # card -> (kind, the parent's repo id)
    "emirunlu26__qwen3-4B-finetuned-turkish-youtube-text-summarizer.md": ("lora", "Qwen/Qwen3-4B"),
    "mlx-community__Qwen2.5-7B-Instruct-4bit.md": ("quantization", "Qwen/Qwen2.5-7B"),
    "mlx-community__gemma-3-4b-it-qat-4bit.md": ("fine_tune", "OpenGVLab/InternVL3-1B-Instruct"),
    "bartowski__Hermes-3-Llama-3.2-3B-GGUF.md": ("quantization", "NousResearch/Hermes-3-Llama-3.2-3B"),
}


@pytest.mark.parametrize("filename", sorted(BASES))
def test_a_card_on_a_registered_base_becomes_an_adaptation(client_for, engineer, filename):
    kind, base_repo = BASES[filename]
    base = FoundationModelFactory(owner=engineer, name=base_repo.split("/")[1], hf_repo_id=base_repo)
    response = client_for(engineer).post(
        IMPORT, {"card": read_card(filename), "hf_repo_id": repo_id(filename)}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "adaptation" and body["unresolved_base_models"] == []
    adaptation = Adaptation.objects.get(pk=body["record"]["id"])
    assert adaptation.kind == kind and adaptation.derived_from_models == [base.pk]
    exported = client_for(engineer).get(f"/api/v1/adaptations/{adaptation.pk}/model-card/").content.decode()
    assert parse_model_card(exported).base_models == [base_repo]


def test_a_card_on_a_registered_adaptation_hangs_below_it(engineer):
    mistral = FoundationModelFactory(owner=engineer, hf_repo_id="mistralai/Mistral-7B-v0.1")
    zephyr = AdaptationFactory(
        owner=engineer, derived_from_models=[mistral.pk], hf_repo_id="alignment-handbook/zephyr-7b-sft-full"
    )
    result = services.model_card_import(
        actor=engineer, card=read_card("argilla__notus-7b-v1.md"), hf_repo_id="argilla/notus-7b-v1"
    )
    assert result.kind == "adaptation" and result.record.kind == "rlhf"  # tagged dpo
    assert result.record.derived_from_adaptations == [zephyr.pk]
    assert len(eval_results_of(result.record.model_card_metadata)) == 9


def test_importing_again_updates_rather_than_duplicates(client_for, engineer, other_engineer):
    filename = "argilla__notus-7b-v1.md"
    payload = {"card": read_card(filename), "hf_repo_id": repo_id(filename)}
    client = client_for(engineer)
    first = client.post(IMPORT, payload, format="json").json()
    events = AuditEvent.objects.count()
    second = client.post(IMPORT, payload, format="json")
    assert second.status_code == 200 and second.json()["created"] is False
    assert second.json()["record"]["id"] == first["record"]["id"]
    assert FoundationModel.objects.count() == 1
    assert AuditEvent.objects.count() == events  # nothing changed, nothing recorded
    edited = {**payload, "card": payload["card"].replace("license: mit", "license: apache-2.0")}
    assert client.post(IMPORT, edited, format="json").status_code == 200
    event = AuditEvent.objects.filter(action="foundation_model.update").get()
    assert event.changes["license"] == ["mit", "apache-2.0"]
    assert client_for(other_engineer).post(IMPORT, payload, format="json").status_code == 403


def test_upload_as_a_file(client_for, engineer):
    filename = "emirunlu26__qwen3-4B-finetuned-turkish-youtube-text-summarizer.md"
    with open(CARDS_DIR / filename, "rb") as fh:
        response = client_for(engineer).post(IMPORT, {"file": fh, "hf_repo_id": repo_id(filename)}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["record"]["license"] == "apache-2.0"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "card"),
        ({"card": "---\nlicense: [mit\n---\nbody"}, "card"),
        ({"card": "---\n- a list\n---\nbody"}, "card"),
        ({"card": "# A card that says nothing", "hf_repo_id": "acme/thing"}, "modality"),
        ({"card": "---\npipeline_tag: text-generation\n---\nno title", "provider": "x"}, "name"),
        ({"card": "---\npipeline_tag: text-generation\n---\n# Model\n"}, "provider"),
        ({"card": "# x", "hf_repo_id": "not a repo id"}, "hf_repo_id"),
        ({"card": "# x", "hf_repo_id": "acme/x", "modality": "smell"}, "modality"),
    ],
)
def test_bad_imports_are_per_field_400s(client_for, engineer, payload, field):
    response = client_for(engineer).post(IMPORT, payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FoundationModel.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(client_for, engineer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("README.md", b"\xff\xfe\x00binary", content_type="text/markdown")
    response = client_for(engineer).post(IMPORT, {"file": upload}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_a_card_without_front_matter_and_a_hand_made_record_export(engineer):
    result = services.model_card_import(
        actor=engineer,
        card="# In-house model\r\n\r\nTrained on tickets.\r\n",
        hf_repo_id="acme/in-house",
        modality="text",
    )
    assert result.record.model_card == "# In-house model\n\nTrained on tickets.\n"
    assert result.record.model_card_metadata == {}
    model = FoundationModelFactory(owner=engineer, name="Hand made", license="mit", modality="audio")
    card = ModelCard(render_model_card(model))
    assert card.data.license == "mit" and card.data.pipeline_tag == "automatic-speech-recognition"
    assert "# Hand made 1" in card.text and "Example AI" in card.text


def test_a_reviewer_cannot_import(engineer, reviewer):
    with pytest.raises(Exception) as exc:
        services.model_card_import(actor=reviewer, card=read_card("argilla__notus-7b-v1.md"))
    assert type(exc.value).__name__ == "NotAllowed"


def test_garbage_is_refused_before_anything_is_written(engineer):
    with pytest.raises(InvalidInput):
        services.model_card_import(actor=engineer, card="   ")
    assert not AuditEvent.objects.filter(action__startswith="foundation_model").exists()
