"""lm-eval uploads: credentials stored redacted (API, page, PDF evidence), sizes and depth bounded."""

import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditEvent
from fmgov.evaluations.api.serializers import MAX_UPLOAD_BYTES, ResultsUploadSerializer
from fmgov.evaluations.evaluators.lm_eval_import import parse_lm_eval_results
from fmgov.evaluations.models import EvaluationRun
from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from reports.choices import ReportKind
from reports.selectors.dossier import dossier_evidence
from reports.services import report_render, report_request
from reports.tests import pdfcheck
from tests.data import REALWORLD_DIR

pytestmark = pytest.mark.django_db

SUITES = "/api/v1/evaluation-suites/"
LM_EVAL_DIR = REALWORLD_DIR / "lm-eval"
PYTHIA = LM_EVAL_DIR / "EleutherAI__pythia-160m_5shot_step143000_v0.3.json"
TOKEN = "hf_Qm3TzL8vKp2NwX7rYb4JcD9fGh6SaE1uVo"  # made up, in the format of a real one
OPENAI_KEY = "sk-proj-Zr8Kq2LmW5xTn7Vb3JcY9dHg4FsA6eUo1PiQ"


def _results_with_secrets() -> dict:
    data = json.loads(PYTHIA.read_text())
    data["config"]["model_args"] = f"pretrained=EleutherAI/pythia-160m,token={TOKEN},use_auth_token=True"
    data["config"]["api_key"] = OPENAI_KEY
    return data


def _upload(client, s, deployment, content: bytes, name: str = "results.json"):
    return client.post(
        f"{SUITES}{s.pk}/upload-results/",
        {"deployment": deployment.pk, "file": SimpleUploadedFile(name, content, "application/json")},
        format="multipart",
    )


def test_a_token_in_model_args_is_stored_shown_and_reported_redacted(engineer, auditor, client_for, client):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    response = _upload(client_for(engineer), s, deployment, json.dumps(_results_with_secrets()).encode())
    assert response.status_code == 201, response.json()
    run = EvaluationRun.objects.get(pk=response.json()["id"])

    # Stored: the run's details hold the placeholder, not the token; use_auth_token=True stays.
    assert run.details["config"]["model_args"] == (
        "pretrained=EleutherAI/pythia-160m,token=[REDACTED:huggingface],use_auth_token=True"
    )
    assert run.details["config"]["api_key"] == "[REDACTED:openai]"
    assert run.details["redacted"] == ["huggingface", "openai"]
    # The audit note, in the same transaction as the import.
    event = AuditEvent.objects.get(action="evaluation_run.import", object_id=str(run.pk))
    assert event.context["redacted"] == ["huggingface", "openai"]

    # Shown: the API to any role and the run page.
    api_text = client_for(auditor).get(f"/api/v1/evaluation-runs/{run.pk}/").content.decode()
    assert "[REDACTED:huggingface]" in api_text
    client.force_login(auditor)
    page = client.get(f"/evaluations/runs/{run.pk}/")
    assert page.status_code == 200
    for text in (api_text, page.content.decode()):
        assert TOKEN not in text and OPENAI_KEY not in text

    # Reported: the dossier's evidence (what the PDF renders) carries the note and never the secret.
    report = report_request(actor=engineer, kind=ReportKind.DEPLOYMENT_DOSSIER, deployment=deployment)
    evidence = json.dumps(dossier_evidence(report), default=str)
    assert TOKEN not in evidence and OPENAI_KEY not in evidence
    assert '"redacted": ["huggingface", "openai"]' in evidence
    # And the PDF itself, rendered and parsed back: neither its text nor its attached evidence.json holds them.
    rendered = report_render(report_id=report.pk)
    assert rendered.state == "succeeded", rendered.error
    with default_storage.open(rendered.file.name, "rb") as fh:
        data = fh.read()
    for text in (pdfcheck.text(data), json.dumps(pdfcheck.evidence(data))):
        assert TOKEN not in text and OPENAI_KEY not in text
    assert "lm_eval_import" in json.dumps(pdfcheck.evidence(data))  # the run is in the report, redacted


@pytest.mark.parametrize("path", sorted(LM_EVAL_DIR.glob("*.json")), ids=lambda p: p.name[:30])
def test_the_real_corpus_keeps_every_value(path):
    """Real files carry placeholders and tokenizer fields, no credential: nothing in them is redacted."""
    data = json.loads(path.read_text())
    result = parse_lm_eval_results(data)
    assert result.details["redacted"] == []
    assert result.details["config"] == data["config"]


def test_a_file_larger_than_the_limit_is_a_400_on_file(engineer, client_for):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    too_big = b" " * (MAX_UPLOAD_BYTES + 1)  # the body is within the request cap, the file is not
    response = _upload(client_for(engineer), s, deployment, too_big)
    assert response.status_code == 400
    assert "larger than 20 MiB" in response.json()["file"][0]
    assert not EvaluationRun.objects.exists()


def test_the_serializer_refuses_a_file_by_its_size_without_reading_it(engineer):
    class Unreadable(SimpleUploadedFile):
        def read(self, *args, **kwargs):
            raise AssertionError("read before the size check")

    upload = Unreadable("results.json", b"{}", "application/json")
    upload.size = MAX_UPLOAD_BYTES + 1
    serializer = ResultsUploadSerializer(data={"deployment": DeploymentFactory(owner=engineer).pk, "file": upload})
    assert not serializer.is_valid()
    assert "larger" in serializer.errors["file"][0]


def test_a_declared_length_over_the_limit_is_413_without_parsing(engineer, client_for):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    response = client_for(engineer).generic(
        "POST",
        f"{SUITES}{s.pk}/upload-results/",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH=str(MAX_UPLOAD_BYTES * 2),
    )
    assert response.status_code == 413 and "file" in response.json()


@pytest.mark.parametrize("depth", [65, 5_000])
def test_a_results_file_nested_too_deep_is_400(engineer, client_for, depth):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    content = ('{"results": {"t": ' + "[" * depth + "]" * depth + "}}").encode()
    response = _upload(client_for(engineer), s, deployment, content)
    assert response.status_code == 400
    assert "nested deeper than 64" in response.json()["file"][0]
    assert not EvaluationRun.objects.exists()
