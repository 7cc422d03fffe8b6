"""The evidence API as a client uses it: multipart uploads, refusals with their status and message, downloads."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audits.models import AuditEvent
from fmgov.evidence.models import Attachment
from fmgov.evidence.tests.factories import PDF_BYTES, attach, pdf_bytes
from fmgov.incidents.tests.factories import open_incident
from fmgov.reviews.models import SignOff
from fmgov.reviews.tests.factories import approve, ready_review, submitted_review

pytestmark = pytest.mark.django_db


def _post(client, url, content=PDF_BYTES, name="red-team.pdf", **fields):
    return client.post(url, {"file": SimpleUploadedFile(name, content), **fields}, format="multipart")


def test_upload_list_and_download_on_a_review(client_for, engineer, auditor):
    review = ready_review(author=engineer)
    url = f"/api/v1/reviews/{review.pk}/attachments/"
    response = _post(client_for(engineer), url, effective_date="2026-11-02", expires_on="2027-11-02")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest() and body["size"] == len(PDF_BYTES)
    assert (body["content_type"], body["revision"], body["uploaded_by"]) == ("application/pdf", 1, engineer.username)
    assert (body["effective_date"], body["expires_on"]) == ("2026-11-02", "2027-11-02")

    second = _post(client_for(engineer), url, content=pdf_bytes("v2")).json()
    listed = client_for(auditor).get(url).json()
    assert [(a["revision"], a["supersedes"], a["superseded_by"]) for a in listed] == [
        (1, None, second["id"]),
        (2, body["id"], None),
    ]

    download = client_for(auditor).get(body["download_url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == body["sha256"] == download["X-Content-SHA256"]
    assert download["Content-Type"] == "application/octet-stream" and "attachment" in download["Content-Disposition"]
    assert download["X-Detected-Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.get(action="attachment.download", object_id=str(body["id"]))
    assert event.actor_username == auditor.username and event.context["sha256"] == body["sha256"]


def test_items_and_incidents_take_files_too(client_for, engineer, other_engineer, reviewer):
    review = ready_review(author=engineer)
    item = review.items.first()
    response = _post(client_for(engineer), f"/api/v1/reviews/{review.pk}/items/{item.pk}/attachments/")
    assert response.status_code == 201, response.content
    assert (response.json()["review"], response.json()["review_item"]) == (review.pk, item.pk)
    assert (
        client_for(engineer).get(f"/api/v1/reviews/{review.pk}/attachments/").json() == []
    )  # the item's, not the review's
    incident = open_incident(engineer, deployments=[review.deployment])
    response = _post(client_for(reviewer), f"/api/v1/incidents/{incident.pk}/attachments/", name="timeline.pdf")
    assert response.status_code == 201 and response.json()["incident"] == incident.pk
    other = ready_review(author=other_engineer)
    mismatched = f"/api/v1/reviews/{other.pk}/items/{item.pk}/attachments/"
    assert client_for(engineer).get(mismatched).status_code == 404


def test_a_26_mb_upload_is_413_with_a_message(client_for, engineer):
    review = ready_review(author=engineer)
    content = b"%PDF-1.7\n" + b"0" * (26 * 1024 * 1024)
    response = _post(client_for(engineer), f"/api/v1/reviews/{review.pk}/attachments/", content=content)
    assert response.status_code == 413
    assert "25 MB" in response.json()["detail"] and response.json()["file"]
    assert not Attachment.objects.exists()


def test_just_over_the_limit_inside_the_body_slack_is_413_too(client_for, engineer, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 2048
    review = ready_review(author=engineer)
    response = _post(client_for(engineer), f"/api/v1/reviews/{review.pk}/attachments/", content=b"%PDF-" + b"1" * 2044)
    assert response.status_code == 413 and "larger than the 2 KiB" in response.json()["file"][0]


def test_a_refused_type_is_415_with_what_was_detected(client_for, engineer):
    review = ready_review(author=engineer)
    response = _post(
        client_for(engineer), f"/api/v1/reviews/{review.pk}/attachments/", content=b"MZ\x90\x00" + b"\x00" * 100
    )
    assert response.status_code == 415
    assert "Windows executable" in response.json()["file"][0] and "Accepted:" in response.json()["detail"]


def test_an_engineer_cannot_attach_to_another_engineers_review_or_incident(client_for, engineer, other_engineer):
    review = ready_review(author=engineer)
    response = _post(client_for(other_engineer), f"/api/v1/reviews/{review.pk}/attachments/")
    assert response.status_code == 403 and "owner" in response.json()["detail"]
    item = review.items.first()
    assert (
        _post(client_for(other_engineer), f"/api/v1/reviews/{review.pk}/items/{item.pk}/attachments/").status_code
        == 403
    )
    incident = open_incident(engineer, deployments=[review.deployment])
    assert _post(client_for(other_engineer), f"/api/v1/incidents/{incident.pk}/attachments/").status_code == 403
    assert not Attachment.objects.exists()


def test_an_auditor_reads_but_never_uploads(client_for, engineer, auditor):
    review = ready_review(author=engineer)
    attach(engineer, review)
    assert len(client_for(auditor).get(f"/api/v1/reviews/{review.pk}/attachments/").json()) == 1
    assert _post(client_for(auditor), f"/api/v1/reviews/{review.pk}/attachments/").status_code == 403


def test_approved_review_refuses_a_file_and_submitted_one_voids_its_sign_offs(
    client_for, engineer, reviewer, other_reviewer
):
    approved = submitted_review(author=engineer)
    approve(approved, reviewer, other_reviewer)
    response = _post(client_for(engineer), f"/api/v1/reviews/{approved.pk}/attachments/")
    assert response.status_code == 409 and "approved" in response.json()["detail"]

    submitted = submitted_review(author=engineer)
    (sign_off,) = approve(submitted, reviewer)
    response = _post(client_for(engineer), f"/api/v1/reviews/{submitted.pk}/attachments/")
    assert response.status_code == 201
    assert SignOff.objects.get(pk=sign_off.pk).void
    assert client_for(engineer).get(f"/api/v1/reviews/{submitted.pk}/").json()["state"] == "draft"


def test_list_queries_do_not_grow_with_the_files(client_for, engineer, django_assert_max_num_queries):
    review = ready_review(author=engineer)
    for i in range(6):
        attach(engineer, review, content=pdf_bytes(f"n{i}"), name=f"f{i % 3}.pdf")
    client = client_for(engineer)
    with django_assert_max_num_queries(12):
        assert len(client.get(f"/api/v1/reviews/{review.pk}/attachments/").json()) == 6
