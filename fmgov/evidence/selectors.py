"""Reads on evidence files, shaped so that a list is a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from fmgov.evidence.models import Attachment
from fmgov.registry.models import Deployment

__all__ = [
    "attachment_list",
    "attachments_of",
    "attachments_for_deployment",
    "documentation_attachments",
    "documentation_files_as_of",
]


def attachment_list() -> QuerySet[Attachment]:
    return Attachment.objects.select_related("uploaded_by", "superseded_by")


def attachments_of(*, review_id: int | None = None, item_id: int | None = None, incident_id: int | None = None):
    """The files on one parent (a review's own, not its items'), every revision, by name then revision."""
    if item_id is not None:
        scope = Q(review_item_id=item_id)
    elif review_id is not None:
        scope = Q(review_id=review_id, review_item__isnull=True)
    else:
        scope = Q(incident_id=incident_id)
    return attachment_list().filter(scope).order_by("name", "revision", "id")


def documentation_attachments(record_id: int, field: str | None = None) -> QuerySet[Attachment]:
    """The files on a documentation record's fields (one field's, if named), every revision, in field/name order."""
    scope = Q(documentation_record_id=record_id)
    if field:
        scope &= Q(documentation_field=field)
    return attachment_list().filter(scope).order_by("documentation_field", "name", "revision", "id")


def documentation_files_as_of(
    record_id: int, fields: Iterable[str], at: dt.datetime | None = None
) -> dict[str, list[dict]]:
    """For an export: per field (of ``fields`` only), each file's latest revision uploaded by ``at`` (a frozen
    version's freeze; None: now), with its digest. A file uploaded after a freeze belongs to the next draft."""
    rows = Attachment.objects.filter(documentation_record_id=record_id, documentation_field__in=list(fields))
    if at is not None:
        rows = rows.filter(created_at__lte=at)
    latest: dict[tuple[str, str], Attachment] = {}
    for a in rows.order_by("documentation_field", "name", "revision", "id"):
        latest[(a.documentation_field, a.name)] = a  # the later revision wins
    files: dict[str, list[dict]] = {}
    for (field, _), a in latest.items():
        files.setdefault(field, []).append(
            {"name": a.name, "revision": a.revision, "sha256": a.sha256, "size": a.size, "content_type": a.content_type}
        )
    return files


def attachments_for_deployment(deployment: Deployment) -> QuerySet[Attachment]:
    """Every file a deployment's dossier lists: on its reviews, their items, and the incidents involving it."""
    return (
        attachment_list()
        .select_related("review_item")
        .filter(Q(review__deployment=deployment) | Q(incident__deployments=deployment))
        .distinct()
        .order_by("created_at", "id")
    )
