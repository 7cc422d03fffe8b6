"""Model cards are untrusted input: alias bombs refused, sizes checked before reading, credentials redacted."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput
from fmgov.registry import services
from fmgov.registry.model_cards import MAX_CARD_BYTES, parse_model_card
from fmgov.registry.models import FoundationModel

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/foundation-models/import-model-card/"
TOKEN = "hf_Qm3TzL8vKp2NwX7rYb4JcD9fGh6SaE1uVo"  # made up, in the format of a real one


def _alias_bomb(levels: int = 9) -> str:
    """Nine anchors of nine aliases each: 9**9 (387 million) nodes once expanded."""
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "---\n" + "\n".join(lines) + "\n---\n# Bomb\n"


def test_a_300_byte_alias_bomb_is_a_400_within_a_second(engineer, client_for):
    card = _alias_bomb()
    assert len(card.encode()) < 350
    client = client_for(engineer)
    client.post(IMPORT, {"card": "", "provider": "x"}, format="json")  # first-request warm-up is not parsing
    started = time.monotonic()
    response = client.post(IMPORT, {"card": card, "provider": "x"}, format="json")
    assert time.monotonic() - started < 1.0
    assert response.status_code == 400
    # The 400 is the loader's refusal of the first anchor, before anything is expanded.
    assert "anchors and aliases" in response.json()["card"][0]
    assert not FoundationModel.objects.exists()


def test_the_refusal_comes_before_expansion():
    """The loader stops at the first anchor, so even a bomb of any depth costs nothing."""
    started = time.monotonic()
    with pytest.raises(InvalidInput) as refused:
        parse_model_card(_alias_bomb(levels=25))
    assert time.monotonic() - started < 0.5
    assert "anchors and aliases" in refused.value.field_errors["card"][0]


def test_a_single_harmless_anchor_is_refused_too():
    with pytest.raises(InvalidInput):
        parse_model_card("---\nbase: &b org/base\nbase_model: *b\n---\n# Card\n")


def test_yaml_nested_deeper_than_64_is_a_400():
    with pytest.raises(InvalidInput) as refused:
        parse_model_card("---\nx: " + "[" * 70 + "]" * 70 + "\n---\n# Deep\n")
    assert "nested deeper than 64" in refused.value.field_errors["card"][0]


def test_credentials_in_a_card_are_stored_redacted_with_an_audit_note(engineer, client_for):
    card = (
        "---\nlicense: mit\npipeline_tag: text-generation\n"
        f"hf_token: Zk29dKq0Lm3nXv8TbY1wQ4rS\nwidget:\n- text: 'git clone https://user:{TOKEN}@huggingface.co/x'\n"
        "---\n# Leaky\n\n"
        f"Run with `HF_TOKEN={TOKEN}` or `huggingface-cli login --token $HF_TOKEN`.\n"
        "Use YOUR_HUGGINGFACE_API_KEY and `use_auth_token=True`.\n"
    )
    response = client_for(engineer).post(
        IMPORT, {"card": card, "hf_repo_id": "org/leaky", "provider": "org"}, format="json"
    )
    assert response.status_code == 201, response.json()
    model = FoundationModel.objects.get(hf_repo_id="org/leaky")
    stored = model.model_card + repr(model.model_card_metadata)
    assert TOKEN not in stored and "Zk29dKq0Lm3nXv8TbY1wQ4rS" not in stored
    assert "HF_TOKEN=[REDACTED:huggingface]" in model.model_card
    assert "YOUR_HUGGINGFACE_API_KEY" in model.model_card and "use_auth_token=True" in model.model_card
    assert "--token $HF_TOKEN" in model.model_card
    assert model.model_card_metadata["hf_token"] == "[REDACTED:secret]"
    assert (
        model.model_card_metadata["widget"][0]["text"]
        == "git clone https://[REDACTED:url_credentials]@huggingface.co/x"
    )
    event = AuditEvent.objects.get(object_type="registry.foundationmodel", object_id=str(model.pk))
    assert event.context["redacted"] == ["huggingface", "secret", "url_credentials"]
    assert TOKEN not in response.content.decode()


def test_a_clean_card_has_no_redaction_note(engineer):
    card = "---\nlicense: mit\npipeline_tag: text-generation\n---\n# Clean\n"
    result = services.model_card_import(actor=engineer, card=card, hf_repo_id="org/clean")
    event = AuditEvent.objects.get(object_type="registry.foundationmodel", object_id=str(result.record.pk))
    assert "redacted" not in event.context


def test_a_card_file_over_the_limit_is_a_400_on_file(engineer, client_for):
    upload = SimpleUploadedFile("README.md", b"#" * (MAX_CARD_BYTES + 1), "text/markdown")
    response = client_for(engineer).post(IMPORT, {"file": upload, "provider": "x"}, format="multipart")
    assert response.status_code == 400
    assert "larger than 2 MiB" in response.json()["file"][0]


def test_a_body_declared_over_the_limit_is_413_before_it_is_read(engineer, client_for):
    response = client_for(engineer).generic(
        "POST", IMPORT, b"{}", content_type="application/json", CONTENT_LENGTH=str(MAX_CARD_BYTES * 4)
    )
    assert response.status_code == 413
    assert "larger" in response.json()["file"][0]


def test_the_import_page_refuses_an_oversized_body_with_413(engineer, client):
    client.force_login(engineer)
    response = client.generic(
        "POST", "/models/import/", b"", content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(MAX_CARD_BYTES * 4),
    )  # fmt: skip
    assert response.status_code == 413
    assert "larger" in response.content.decode()
