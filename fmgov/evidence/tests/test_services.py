"""Evidence files through the services: stored by digest, never overwritten, bound by the review's hash."""

import datetime as dt
import hashlib
import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection, connections

from audits.models import AuditEvent
from fmgov.core.exceptions import NotAllowed, TransitionNotAllowed
from fmgov.evidence import services
from fmgov.evidence.models import Attachment
from fmgov.evidence.tests.factories import PDF_BYTES, attach, pdf_bytes, upload
from fmgov.incidents.tests.factories import open_incident
from fmgov.registry.tests.factories import DeploymentFactory
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.content import review_content, review_content_hash
from fmgov.reviews.models import SignOff
from fmgov.reviews.services import review_submit
from fmgov.reviews.tests.factories import add_item, approve, ready_review, submitted_review

pytestmark = pytest.mark.django_db


def test_upload_stores_the_bytes_under_their_digest_with_detected_type(engineer):
    review = ready_review(author=engineer)
    a = attach(engineer, review, expires_on=dt.date(2027, 11, 1), description="Red team, October")
    sha = hashlib.sha256(PDF_BYTES).hexdigest()
    assert (a.sha256, a.size, a.content_type, a.revision, a.supersedes) == (
        sha,
        len(PDF_BYTES),
        "application/pdf",
        1,
        None,
    )
    assert a.file.name == services.storage_name(sha)
    with default_storage.open(a.file.name, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sha
    event = AuditEvent.objects.get(action="attachment.upload", object_id=str(a.pk))
    assert event.actor_username == engineer.username and event.changes["sha256"] == [None, sha]


def test_same_name_again_is_a_new_revision_and_the_old_bytes_stay(engineer):
    review = ready_review(author=engineer)
    first = attach(engineer, review)
    second = attach(engineer, review, content=pdf_bytes("second opinion"))
    assert (second.revision, second.supersedes_id) == (2, first.pk)
    first.refresh_from_db()
    assert first.superseded_by == second
    with default_storage.open(first.file.name, "rb") as fh:
        assert fh.read() == PDF_BYTES
    other_name = attach(engineer, review, name="dpia.pdf")
    assert (other_name.revision, other_name.supersedes) == (1, None)


def test_the_type_comes_from_the_bytes_not_the_claim(engineer):
    review = ready_review(author=engineer)
    a = services.attachment_upload(
        actor=engineer, parent=review, upload=upload(b'{"accuracy": 0.91}', "results.pdf", "application/pdf")
    )
    assert a.content_type == "application/json"
    with pytest.raises(services.UnsupportedFileType, match="ELF executable"):
        services.attachment_upload(
            actor=engineer, parent=review, upload=upload(b"\x7fELF\x02\x01\x01" + b"\0" * 64, "report.pdf")
        )
    with pytest.raises(services.UnsupportedFileType, match="HTML"):
        services.attachment_upload(actor=engineer, parent=review, upload=upload(b"<!DOCTYPE html><script>", "a.txt"))


def test_too_large_is_refused_before_anything_is_stored(engineer, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 1000
    review = ready_review(author=engineer)
    with pytest.raises(services.FileTooLarge, match="larger than the 1000 bytes"):
        attach(engineer, review, content=b"%PDF-1.7\n" + b"x" * 1000)
    assert not Attachment.objects.exists()


def test_another_engineer_may_not_attach_to_a_review_or_incident(engineer, other_engineer, reviewer):
    review = ready_review(author=engineer)
    with pytest.raises(NotAllowed):
        attach(other_engineer, review)
    with pytest.raises(NotAllowed):
        attach(other_engineer, review.items.first())
    incident = open_incident(engineer, deployments=[review.deployment])
    with pytest.raises(NotAllowed):
        attach(other_engineer, incident)
    assert attach(reviewer, incident).incident == incident  # reviewers write any incident


def test_digests_are_in_the_review_content_hash(engineer):
    review = ready_review(author=engineer)
    item = review.items.first()
    before = review_content_hash(review)
    a = attach(engineer, item)
    content = review_content(review)
    (item_content,) = [i for i in content["items"] if i["id"] == item.pk]
    assert [row["sha256"] for row in item_content["attachments"]] == [a.sha256]
    assert review_content_hash(review) != before
    assert review_content_hash(review, scheme=2) == review_content_hash(review, scheme=2)  # older schemes untouched
    b = attach(engineer, review, name="dpia.pdf")
    assert [row["sha256"] for row in review_content(review)["review"]["attachments"]] == [b.sha256]


def test_attaching_to_a_submitted_review_voids_its_sign_offs(engineer, reviewer):
    review = submitted_review(author=engineer)
    (sign_off,) = approve(review, reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.SUBMITTED
    attach(engineer, review.items.first())
    review.refresh_from_db()
    sign_off = SignOff.objects.get(pk=sign_off.pk)
    assert review.state == ReviewState.DRAFT
    assert sign_off.void and "attach a file" in sign_off.void_reason
    # Resubmitted, the new hash covers the file.
    review = review_submit(review=review, actor=engineer)
    assert review.content_hash == review_content_hash(review, scheme=review.hash_scheme)
    assert review.hash_scheme == 3


def test_attaching_to_an_approved_review_is_refused(engineer, reviewer, other_reviewer):
    review = submitted_review(author=engineer)
    approve(review, reviewer, other_reviewer)
    review.refresh_from_db()
    assert review.state == ReviewState.APPROVED
    with pytest.raises(TransitionNotAllowed, match="approved"):
        attach(engineer, review)
    with pytest.raises(TransitionNotAllowed):
        attach(engineer, review.items.first())
    assert not Attachment.objects.exists()


def test_a_deleted_item_leaves_its_files_on_the_review(engineer):
    from fmgov.reviews.services import review_item_delete

    review = ready_review(author=engineer)
    extra = add_item(review, engineer, "privacy")
    a = attach(engineer, extra)
    review_item_delete(item=extra, actor=engineer)
    a.refresh_from_db()
    assert (a.review_id, a.review_item_id) == (review.pk, None)
    assert [r["sha256"] for r in review_content(review)["review"]["attachments"]] == [a.sha256]


def test_download_is_audited_with_the_actor(engineer, auditor):
    review = ready_review(author=engineer)
    a = attach(engineer, review)
    with services.attachment_open_for_download(actor=auditor, attachment=a) as fh:
        assert fh.read() == PDF_BYTES
    event = AuditEvent.objects.get(action="attachment.download")
    assert (event.actor_username, event.object_id, event.context["sha256"]) == (auditor.username, str(a.pk), a.sha256)


def test_an_incident_takes_files_until_it_is_closed(engineer, reviewer):
    from fmgov.incidents import services as incidents

    deployment = DeploymentFactory(owner=engineer)
    incident = open_incident(engineer, deployments=[deployment])
    assert attach(engineer, incident).incident_id == incident.pk
    incidents.incident_update(incident=incident, actor=engineer, root_cause="Unit error", corrective_measures="Fixed")
    incident = incidents.incident_report(incident=incident, actor=engineer)
    incident = incidents.incident_follow_up(incident=incident, actor=engineer)
    incident = incidents.incident_close(incident=incident, actor=reviewer)
    with pytest.raises(TransitionNotAllowed, match="closed"):
        attach(reviewer, incident, name="late.pdf")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_name_make_a_chain_not_a_fork(make_user):
    """Two uploads of the same name at the same moment: the review's row lock numbers them 1 and 2."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks across connections")
    engineer = make_user("erin", "engineer")
    review = ready_review(author=engineer)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def upload_one(label: str) -> None:
        try:
            barrier.wait()
            attach(engineer, review, content=pdf_bytes(label))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload_one, args=(label,)) for label in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    first, second = Attachment.objects.order_by("revision")
    assert (first.revision, first.supersedes_id, second.revision, second.supersedes_id) == (1, None, 2, first.pk)
