"""Evidence files on documentation fields (issue 19), through the API as a client uses it."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from audits.models import AuditEvent
from fmgov.documentation.tests.factories import documented_adaptation, documented_model
from fmgov.evidence.models import Attachment
from fmgov.evidence.tests.factories import PDF_BYTES, pdf_bytes

pytestmark = pytest.mark.django_db


def _url(record) -> str:
    kind = "foundation-models" if record.foundation_model_id else "adaptations"
    return f"/api/v1/{kind}/{record.target.pk}/documentation/attachments/"


def _post(client, url, field="architecture", content=PDF_BYTES, name="architecture.pdf"):
    data = {"file": SimpleUploadedFile(name, content)}
    if field is not None:
        data["field"] = field
    return client.post(url, data, format="multipart")


def test_upload_list_revise_and_show_on_the_documentation(client_for, engineer, auditor):
    record = documented_model(engineer)
    url = _url(record)
    first = _post(client_for(engineer), url)
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["documentation_record"], body["documentation_field"], body["revision"]) == (
        record.pk,
        "architecture",
        1,
    )
    assert body["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    second = _post(client_for(engineer), url, content=pdf_bytes("v2")).json()
    other_field = _post(client_for(engineer), url, field="data_curation", name="architecture.pdf").json()
    assert (second["revision"], second["supersedes"]) == (2, body["id"])
    assert other_field["revision"] == 1  # same name, another field: its own chain

    listed = client_for(auditor).get(url, {"field": "architecture"}).json()
    assert [(a["id"], a["revision"], a["superseded_by"]) for a in listed] == [
        (body["id"], 1, second["id"]),
        (second["id"], 2, None),
    ]
    assert len(client_for(auditor).get(url).json()) == 3

    doc = client_for(auditor).get(f"/api/v1/foundation-models/{record.target.pk}/documentation/").json()
    v2 = pdf_bytes("v2")
    assert doc["attachments"] == {
        "architecture": [
            {"id": second["id"], "name": "architecture.pdf", "sha256": hashlib.sha256(v2).hexdigest(), "size": len(v2)}
        ],
        "data_curation": [
            {"id": other_field["id"], "name": "architecture.pdf", "sha256": body["sha256"], "size": len(PDF_BYTES)}
        ],
    }
    event = AuditEvent.objects.get(action="attachment.upload", object_id=str(second["id"]))
    assert event.context["parent"] == f"documentation field architecture of record #{record.pk}"


def test_adaptation_upload_after_a_freeze_leaves_the_frozen_version(client_for, engineer, reviewer):
    record = documented_adaptation(engineer)
    frozen = client_for(engineer).post(f"/api/v1/adaptations/{record.target.pk}/documentation/freeze/")
    assert frozen.status_code == 200
    response = _post(client_for(reviewer), _url(record), field="intended_uses", name="uses.pdf")
    assert response.status_code == 201, response.content
    doc = client_for(engineer).get(f"/api/v1/adaptations/{record.target.pk}/documentation/").json()
    assert doc["version"] == doc["last_frozen"]["version"] == 1 and doc["frozen_at"] is not None
    assert [a["name"] for a in doc["attachments"]["intended_uses"]] == ["uses.pdf"]


def test_unknown_or_missing_field_is_400_with_a_message(client_for, engineer):
    record = documented_model(engineer)
    response = _post(client_for(engineer), _url(record), field="shoe_size")
    assert response.status_code == 400
    assert "'shoe_size' is not a documentation field" in response.json()["field"][0]
    assert _post(client_for(engineer), _url(record), field=None).status_code == 400
    listed = client_for(engineer).get(_url(record), {"field": "shoe_size"})
    assert listed.status_code == 400 and "not a documentation field" in listed.json()["field"][0]
    assert not Attachment.objects.exists()


def test_another_engineer_and_an_auditor_are_refused(client_for, engineer, other_engineer, auditor):
    record = documented_model(engineer)
    for user in (other_engineer, auditor):
        response = _post(client_for(user), _url(record))
        assert response.status_code == 403, (user.username, response.content)
    assert not Attachment.objects.exists()
    assert client_for(auditor).get(_url(record)).status_code == 200


def test_no_record_yet_is_409_and_over_the_limit_is_413(client_for, engineer, settings):
    from fmgov.registry.tests.factories import FoundationModelFactory

    model = FoundationModelFactory(owner=engineer)
    url = f"/api/v1/foundation-models/{model.pk}/documentation/attachments/"
    assert client_for(engineer).get(url).json() == []
    response = _post(client_for(engineer), url)
    assert response.status_code == 409 and "save the documentation first" in response.json()["detail"]

    settings.EVIDENCE_MAX_UPLOAD_BYTES = 2048
    record = documented_model(engineer)
    response = _post(client_for(engineer), _url(record), content=b"%PDF-" + b"1" * 2044)
    assert response.status_code == 413 and "larger than the 2 KiB" in response.json()["file"][0]
    assert not Attachment.objects.exists()


def test_download_is_audited(client_for, engineer, auditor):
    record = documented_model(engineer)
    body = _post(client_for(engineer), _url(record)).json()
    download = client_for(auditor).get(body["download_url"])
    assert download.status_code == 200
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == body["sha256"]
    event = AuditEvent.objects.get(action="attachment.download", object_id=str(body["id"]))
    assert event.actor_username == auditor.username
    assert event.context["parent"] == f"documentation field architecture of record #{record.pk}"


def test_the_database_refuses_a_field_without_its_record_and_a_record_without_a_field(client_for, engineer):
    record = documented_model(engineer)
    attachment = Attachment.objects.get(pk=_post(client_for(engineer), _url(record)).json()["id"])
    row = {
        f.attname: getattr(attachment, f.attname)
        for f in Attachment._meta.concrete_fields
        if f.attname not in {"id", "supersedes_id"}
    }
    for broken in ({"documentation_field": ""}, {"documentation_record_id": None}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Attachment(**{**row, **broken}).save()


def test_documentation_attachment_routes_are_in_the_schema(client_for, auditor):
    schema = client_for(auditor).get("/api/schema/", {"format": "json"}).json()
    for prefix in ("foundation-models", "adaptations"):
        path = schema["paths"][f"/api/v1/{prefix}/{{target_pk}}/documentation/attachments/"]
        assert {"get", "post"} <= set(path)
        ref = path["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert {"file", "field"} <= set(schema["components"]["schemas"][ref]["required"])


def test_the_documentation_export_lists_each_fields_files_as_the_exported_version_stood(engineer, auditor):
    """No renderer: the evidence and the HTML the renderer lays out (``build_parts``), as the export tests do."""
    import json

    from fmgov.documentation.services import documentation_freeze
    from fmgov.evidence.services import DocumentationField
    from fmgov.evidence.tests.factories import attach
    from reports.models import Report
    from reports.rendering.document import build_parts
    from reports.selectors.documentation import documentation_evidence
    from reports.services import evidence_to_json

    record = documented_model(engineer)
    submitted = attach(engineer, DocumentationField(record, "architecture"), name="architecture.pdf")
    attach(engineer, DocumentationField(record, "bias_detection"), content=pdf_bytes("bias"), name="bias.pdf")
    documentation_freeze(record=record, actor=engineer)
    later = attach(
        engineer, DocumentationField(record, "architecture"), content=pdf_bytes("v2"), name="architecture.pdf"
    )
    assert later.revision == 2
    report = Report.objects.create(
        kind="model_documentation",
        foundation_model=record.foundation_model,
        audience="downstream_providers",
        requested_by=auditor,
    )

    evidence = json.loads(evidence_to_json(documentation_evidence(report)))
    assert evidence["record"]["exported"] == "frozen"
    # The frozen version's file (not the revision uploaded after the freeze); bias_detection is not for this audience.
    assert evidence["attachments"] == {
        "architecture": [
            {
                "name": "architecture.pdf",
                "revision": 1,
                "sha256": submitted.sha256,
                "size": submitted.size,
                "content_type": "application/pdf",
            }
        ]
    }
    (html,) = build_parts("model_documentation", evidence)
    assert "Evidence file: architecture.pdf (rev. 1" in html and f"SHA-256 {submitted.sha256}" in html
    assert later.sha256 not in html and "bias.pdf" not in html
