"""Upload -> deployment dossier -> the file extracted from the PDF/A-3b has the same SHA-256 (issue 19)."""

import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from fmgov.evidence.tests.factories import pdf_bytes
from fmgov.incidents.tests.factories import open_incident
from fmgov.reviews.tests.factories import ready_review
from reports.services import report_render
from reports.tests import pdfcheck

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _upload(client, url, content, name):
    response = client.post(url, {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def test_attachment_bytes_survive_upload_dossier_and_extraction(client_for, engineer, reviewer, auditor, settings):
    review = ready_review(author=engineer)
    item = review.items.first()
    deployment = review.deployment
    red_team = pdf_bytes("red team, October") + bytes(range(256)) * 40  # binary after the header
    export = b'{"suite": "toxicity", "rows": [' + b",".join(b'{"score": 0.01}' for _ in range(3000)) + b"]}"
    dpia = "Data-protection impact assessment\nRésumé: low residual risk.\n".encode() * 200
    settings.EVIDENCE_DOSSIER_EMBED_BYTES = len(red_team) + len(dpia) + 100  # the export does not fit

    engineer_api = client_for(engineer)
    a = _upload(engineer_api, f"/api/v1/reviews/{review.pk}/attachments/", red_team, "red-team.pdf")
    b = _upload(engineer_api, f"/api/v1/reviews/{review.pk}/items/{item.pk}/attachments/", export, "toxicity.json")
    c = _upload(engineer_api, f"/api/v1/reviews/{review.pk}/items/{item.pk}/attachments/", dpia, "dpia.txt")
    incident = open_incident(engineer, deployments=[deployment])
    d = _upload(client_for(reviewer), f"/api/v1/incidents/{incident.pk}/attachments/", red_team, "copy.pdf")

    response = client_for(auditor).post(
        "/api/v1/reports/", {"kind": "deployment_dossier", "deployment": deployment.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    report = report_render(report_id=response.json()["id"])
    assert report.state == "succeeded", report.error
    with default_storage.open(report.file.name, "rb") as fh:
        pdf = fh.read()

    embedded = dict(pdfcheck.reader(pdf).attachments)
    (evidence_json,) = embedded.pop("evidence.json")
    evidence = json.loads(evidence_json)
    section = evidence["attachments"]
    rows = {row["id"]: row for row in section["files"]}
    assert set(rows) == {a["id"], b["id"], c["id"], d["id"]}
    # Each embedded file, taken back out of the PDF, hashes to the digest recorded at upload.
    extracted = {name: hashlib.sha256(content).hexdigest() for name, (content,) in embedded.items()}
    assert extracted == {
        f"{a['sha256'][:12]}-red-team.pdf": a["sha256"],
        f"{c['sha256'][:12]}-dpia.txt": c["sha256"],
    }
    assert a["sha256"] == hashlib.sha256(red_team).hexdigest() and c["sha256"] == hashlib.sha256(dpia).hexdigest()
    # The same bytes on the incident are embedded once; the export over the budget is listed by digest only.
    assert rows[d["id"]]["embedded_as"] == rows[a["id"]]["embedded_as"]
    assert rows[b["id"]]["embedded_as"] is None and section["listed_only"] == 1
    assert rows[b["id"]]["parent"] == {
        "kind": "risk_item",
        "id": item.pk,
        "review": review.pk,
        "label": f"Review #{review.pk}, risk item #{item.pk}",
    }
    flat = pdfcheck.squeezed(pdf)
    assert "8.Evidencefiles" in flat and b["sha256"] in flat and "listedonly" in flat
    # The uploads are in the dossier's audit trail.
    uploads = [e for e in evidence["audit_trail"]["events"] if e["action"] == "attachment.upload"]
    assert len(uploads) == 4
