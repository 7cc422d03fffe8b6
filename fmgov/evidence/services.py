"""Writes on evidence files: upload (a new revision, never an overwrite), download (audited), expiry notices.

Each is atomic and records its audit event in the same transaction. The bytes are written to storage under
their SHA-256 before the row commits; a rolled-back upload leaves at most a content-addressed file that the next
upload of the same bytes reuses, never a row without its file.

An attachment on a review or one of its risk items is part of what the board signs (the review's content hash,
scheme 3): adding one to a submitted review voids its sign-offs and returns it to draft, and on an approved or
closed review it is refused, through the same reviews service that guards every other change of evidence.

A documentation field's file (``DocumentationField``) is written by whoever may edit that record (the documentation
services' rule). A frozen version is not touched: a file uploaded after the freeze belongs to the next draft.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import posixpath
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from audits.services import audit_record, created
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.core.uploads import human_size
from fmgov.documentation.fields import FIELDS as DOCUMENTATION_FIELDS
from fmgov.documentation.models import DocumentationRecord
from fmgov.documentation.services import may_edit as may_edit_documentation
from fmgov.evidence import conf
from fmgov.evidence.models import Attachment
from fmgov.evidence.sniff import ACCEPTED, RefusedType, detect_type
from fmgov.incidents.choices import IncidentStatus
from fmgov.incidents.models import Incident
from fmgov.incidents.services import may_write as may_write_incident
from fmgov.reviews.models import ReviewItem, RiskReview
from fmgov.reviews.services import review_evidence_changing

__all__ = [
    "DocumentationField",
    "FileTooLarge",
    "StoredFileMismatch",
    "UnsupportedFileType",
    "Parent",
    "attachment_upload",
    "attachment_open_for_download",
    "attachments_expiry_notices",
    "may_attach",
    "storage_name",
    "stored_file_release",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentationField:
    """One field of a documentation record, as the parent of its evidence files."""

    record: DocumentationRecord
    field: str


Parent = RiskReview | ReviewItem | Incident | DocumentationField
NAME_MAX = Attachment._meta.get_field("name").max_length
DESCRIPTION_MAX = Attachment._meta.get_field("description").max_length
SYSTEM = "fmgov.evidence.tasks.evidence_expiry_notices"


class FileTooLarge(InvalidInput):
    """413: the file is over ``EVIDENCE_MAX_UPLOAD_BYTES``."""

    status_code = 413


class UnsupportedFileType(InvalidInput):
    """415: the bytes are not one of the accepted kinds."""

    status_code = 415


class StoredFileMismatch(Conflict):
    """409: the stored bytes no longer hash to the digest on record; they are not served under it."""


def storage_name(sha256: str) -> str:
    """Where bytes with this digest live: the name says what they are, so they are written once and never replaced."""
    return f"evidence/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _clean_name(raw: str) -> str:
    """The file's own name: no folders, no control or format characters (NUL, CR/LF, the right-to-left override),
    one Unicode spelling (NFC, so a decomposed "é" is the same name and the same revision chain), at most
    ``NAME_MAX`` characters."""
    name = posixpath.basename(unicodedata.normalize("NFC", raw or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if not name:
        raise InvalidInput("The file needs a name.", field_errors={"file": ["The uploaded file has no usable name."]})
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: NAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) < 20 else name[:NAME_MAX]
    return name


def may_attach(actor: Actor, parent: Parent) -> bool:
    """As for the parent: a review's (or item's) deployment owner or an admin; an incident's writers; a documentation
    record's editors (its model's or adaptation's owner if an engineer, reviewers and admins; auditors never)."""
    if isinstance(parent, Incident):
        return may_write_incident(actor, parent)
    if isinstance(parent, DocumentationField):
        return actor is not None and may_edit_documentation(actor, parent.record.target)
    review = parent.review if isinstance(parent, ReviewItem) else parent
    if has_role(actor, Role.ADMIN):
        return True
    return has_role(actor, Role.ENGINEER) and review.deployment.owner_id == getattr(actor, "pk", None)


def _ensure_may_attach(actor: Actor, parent: Parent) -> None:
    if may_attach(actor, parent):
        return
    if isinstance(parent, Incident):
        raise NotAllowed("Only reviewers, admins and the engineer who opened this incident may attach files to it.")
    if isinstance(parent, DocumentationField):
        raise NotAllowed(
            "Engineers attach files to the documentation of the models and adaptations they own; reviewers and "
            "admins to any."
        )
    raise NotAllowed("Only the owner of the reviewed deployment or an admin may attach files to its review.")


def _digest_and_size(fh: IO[bytes], limit: int) -> tuple[str, int]:
    fh.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        digest.update(chunk)
    return digest.hexdigest(), size


def _too_large(size: int, limit: int) -> FileTooLarge:
    message = f"The file ({human_size(size)}) is larger than the {human_size(limit)} accepted for evidence files."
    return FileTooLarge(message, field_errors={"file": [message]})


# pg_advisory_xact_lock(int4, int4): the class half says "evidence bytes" ("EVID"), the other half is the digest's
# first 32 bits. The two-key form never meets the one-key (bigint) locks the other apps take.
_STORAGE_LOCK_CLASS = 0x45564944


def _storage_lock(sha256: str) -> None:
    """Hold the digest's lock until this transaction ends: an upload reusing the stored file, and the retention
    purge deleting it, take it, so a file is never deleted under a row that is about to name it. (SQLite needs
    nothing: BEGIN IMMEDIATE already serialises writers.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_STORAGE_LOCK_CLASS, int(sha256[:8], 16) - 2**31])


@transaction.atomic
def stored_file_release(name: str) -> bool:
    """Delete the stored file ``name`` if no attachment names it any more (the retention purge, after its rows are
    gone): checked under the digest's lock, in this transaction, not from what the purge saw before it committed."""
    _storage_lock(posixpath.basename(name)[:64])
    if Attachment.objects.filter(file=name).exists():
        return False
    default_storage.delete(name)
    return True


def _stored_digest(name: str) -> str | None:
    """The SHA-256 of the stored file ``name``, or None when it is not there."""
    digest = hashlib.sha256()
    try:
        with default_storage.open(name, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _store(fh: IO[bytes], sha256: str, size: int) -> str:
    """The storage name holding these bytes: the digest's own, reused only when what is there hashes to it.

    A file at the digest's name whose bytes differ (changed on disk, or cut short by a failed write) is never
    reused, and never replaced either: the storage gives the new copy another name. Two uploads of the same bytes
    at once both find no file and both write; the second, given another name, keeps the first's once it is whole.
    """
    name = storage_name(sha256)
    _storage_lock(sha256)
    if default_storage.exists(name) and default_storage.size(name) == size and _stored_digest(name) == sha256:
        return name  # the same bytes, uploaded before (content-addressed: nothing to replace)
    fh.seek(0)
    saved = default_storage.save(name, fh)
    if saved != name and _stored_digest(name) == sha256:
        default_storage.delete(saved)
        return name
    if saved != name:
        logger.warning("Evidence bytes %s stored as %s: the file under their digest holds other bytes", sha256, saved)
    return saved


def _lock_parent(parent: Parent, actor: Actor) -> tuple[dict[str, Any], dict[str, Any]]:
    """Lock the parent (so revisions are numbered one at a time) and check its state; return the row's parent
    fields and the lookup of its attachments."""
    if isinstance(parent, DocumentationField):
        # The record's lock numbers revisions one at a time; it is the lock the documentation services take, and
        # nothing here reads or changes a version (a frozen one stays frozen; the file serves the next draft).
        record = DocumentationRecord.objects.select_for_update().get(pk=parent.record.pk)
        scope = {"documentation_record": record, "documentation_field": parent.field}
        return scope, scope
    if isinstance(parent, Incident):
        incident = Incident.objects.select_for_update().get(pk=parent.pk)
        if incident.status == IncidentStatus.CLOSED:
            raise TransitionNotAllowed("A closed incident is a record; files are no longer attached to it.")
        return {"incident": incident}, {"incident": incident}
    if isinstance(parent, ReviewItem):
        review = review_evidence_changing(review=parent.review, actor=actor, because="attach a file to a risk item")
        # Items are deleted under the same review lock: one deleted since the caller read it takes no file (on
        # PostgreSQL the row would otherwise fail its foreign key only at commit, a 500).
        if not ReviewItem.objects.filter(pk=parent.pk, review_id=review.pk).exists():
            raise Conflict(f"Risk item #{parent.pk} was removed from review #{review.pk}; attach the file elsewhere.")
        return {"review": review, "review_item": parent}, {"review_item": parent}
    review = review_evidence_changing(review=parent, actor=actor, because="attach a file to the review")
    return {"review": review}, {"review": review, "review_item__isnull": True}


@transaction.atomic
def attachment_upload(
    *,
    actor: Actor,
    parent: Parent,
    upload: Any,
    effective_date: dt.date | None = None,
    expires_on: dt.date | None = None,
    description: str = "",
) -> Attachment:
    """Store an uploaded file (a Django ``UploadedFile`` or any object with ``name``, ``size`` and a seekable
    ``file``) on ``parent``; an earlier file of the same name there is superseded, not replaced.

    On a documentation field an upload is allowed after the record's version was frozen: the file is on the record,
    not on a version, and is evidence for the next draft (the frozen version and its freeze are not changed).
    """
    _ensure_may_attach(actor, parent)
    if isinstance(parent, DocumentationField) and parent.field not in DOCUMENTATION_FIELDS:
        message = f"{parent.field!r} is not a documentation field; use a field name from the catalogue."
        raise InvalidInput(message, field_errors={"field": [message]})
    limit = conf.max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise _too_large(upload.size, limit)
    name = _clean_name(upload.name)
    effective_date = effective_date or timezone.localdate()
    if expires_on is not None and expires_on < effective_date:
        raise InvalidInput(
            "The expiry is before the effective date.",
            field_errors={"expires_on": [f"Give a date on or after the effective date ({effective_date})."]},
        )
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            "The description is too long.", field_errors={"description": [f"At most {DESCRIPTION_MAX} characters."]}
        )
    fh = upload.file if hasattr(upload, "file") else upload
    sha256, size = _digest_and_size(fh, limit)
    try:
        content_type = detect_type(fh, size)
    except RefusedType as exc:
        accepted = ", ".join(sorted(set(ACCEPTED.values())))
        message = f"The file's content looks like {exc}, which is not accepted as evidence. Accepted: {accepted}."
        raise UnsupportedFileType(message, field_errors={"file": [message]}) from None
    fields, lookup = _lock_parent(parent, actor)
    # The parent's row lock (taken above) numbers revisions one at a time; the one-to-one ``supersedes`` refuses a fork.
    previous = (
        Attachment.objects.filter(name=name, superseded_by__isnull=True, **lookup).order_by("-revision", "-id").first()
    )
    stored = _store(fh, sha256, size)
    attachment = Attachment.objects.create(
        **fields,
        name=name,
        description=description,
        file=stored,
        sha256=sha256,
        size=size,
        content_type=content_type,
        uploaded_by=actor,
        effective_date=effective_date,
        expires_on=expires_on,
        revision=previous.revision + 1 if previous else 1,
        supersedes=previous,
    )
    audit_record(
        action="attachment.upload",
        actor=actor,
        obj=attachment,
        changes=created(
            {
                "name": name,
                "sha256": sha256,
                "size": size,
                "content_type": content_type,
                "revision": attachment.revision,
                "supersedes": previous.pk if previous else None,
                "effective_date": effective_date,
                "expires_on": expires_on,
            }
        ),
        context={"parent": attachment.parent_label, "claimed_type": getattr(upload, "content_type", None) or ""},
    )
    return attachment


@transaction.atomic
def attachment_open_for_download(*, actor: Actor, attachment: Attachment) -> IO[bytes]:
    """Check the stored bytes against their recorded SHA-256, record the download (who, which bytes) in the trail,
    then open the file for streaming. Bytes changed behind the record are refused, never served under its digest."""
    if not has_role(actor, *Role.values):
        raise NotAllowed("Your account holds no role in fmgov; ask an admin for one.")
    actual = _stored_digest(attachment.file.name)
    if actual != attachment.sha256:
        logger.error(
            "Evidence file %s (attachment %s): stored bytes hash to %s, the record says %s",
            attachment.file.name,
            attachment.pk,
            actual,
            attachment.sha256,
        )
        raise StoredFileMismatch(
            f"The stored file of {attachment.name} (rev. {attachment.revision}) no longer matches its recorded "
            f"SHA-256 {attachment.sha256}"
            + ("; it is missing" if actual is None else f" (it hashes to {actual})")
            + ". It is not served; an admin should restore it from a backup."
        )
    audit_record(
        action="attachment.download",
        actor=actor,
        obj=attachment,
        context={"sha256": attachment.sha256, "size": attachment.size, "parent": attachment.parent_label},
    )
    return default_storage.open(attachment.file.name, "rb")


@transaction.atomic
def attachment_expiry_notice(*, attachment: Attachment, now: dt.datetime | None = None) -> bool:
    """Mark and enqueue the uploader's notice, once; False when sent already, superseded or not yet due."""
    now = now or timezone.now()
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.expiry_notice_sent_at is not None or attachment.expires_on is None:
        return False
    if Attachment.objects.filter(supersedes=attachment).exists():
        return False  # a newer revision replaces it: nothing to renew
    if attachment.expires_on - dt.timedelta(days=conf.expiry_notice_days()) > timezone.localdate(now):
        return False
    attachment.expiry_notice_sent_at = now
    attachment.save(update_fields=["expiry_notice_sent_at", "updated_at"])
    audit_record(
        action="attachment.expiry_notice",
        system=SYSTEM,
        obj=attachment,
        changes={"expiry_notice_sent_at": [None, now]},
        context={"expires_on": attachment.expires_on, "uploaded_by": attachment.uploaded_by_id},
    )
    from fmgov.evidence import tasks

    enqueue_on_commit(tasks.notify_attachment_expiry, attachment.pk)
    return True


def attachments_expiry_notices(*, now: dt.datetime | None = None) -> int:
    """Beat: every current attachment expiring within the notice period gets its uploader's notice once."""
    now = now or timezone.now()
    horizon = timezone.localdate(now) + dt.timedelta(days=conf.expiry_notice_days())
    due = Attachment.objects.filter(
        expires_on__isnull=False,
        expires_on__lte=horizon,
        expiry_notice_sent_at__isnull=True,
        superseded_by__isnull=True,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        try:
            sent += attachment_expiry_notice(attachment=Attachment(pk=pk), now=now)
        except Exception:  # one bad row must not stop the others' notices
            logger.exception("Expiry notice for attachment %s failed", pk)
    return sent
