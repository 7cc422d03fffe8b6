"""Evidence files' part of a risk review's content hash (the answer to ``reviews.hooks.review_attachments``).

Every attachment of the review and of its items, superseded revisions included, with its digest: what the board
saw is bound by the bytes, so a file added or replaced after a sign-off changes the hash and voids it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fmgov.evidence.models import Attachment

if TYPE_CHECKING:
    from fmgov.reviews.models import RiskReview

__all__ = ["review_attachment_parts", "attachment_digest_row"]


def attachment_digest_row(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "sha256": a.sha256,
        "size": a.size,
        "content_type": a.content_type,
        "revision": a.revision,
        "supersedes": a.supersedes_id,
        "effective_date": a.effective_date.isoformat(),
        "expires_on": a.expires_on.isoformat() if a.expires_on else None,
    }


def review_attachment_parts(review: RiskReview) -> dict[str, Any]:
    """``{"review": [row, ...], "items": {item id: [row, ...]}}``, each list by name, revision and id."""
    parts: dict[str, Any] = {"review": [], "items": {}}
    for a in Attachment.objects.filter(review_id=review.pk).order_by("name", "revision", "id"):
        row = attachment_digest_row(a)
        if a.review_item_id is None:
            parts["review"].append(row)
        else:
            parts["items"].setdefault(a.review_item_id, []).append(row)
    return parts
