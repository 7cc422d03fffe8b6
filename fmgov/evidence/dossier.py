"""Evidence files in a deployment dossier: every attachment listed with its digest, the bytes embedded in the
PDF/A-3b beside evidence.json up to ``EVIDENCE_DOSSIER_EMBED_BYTES`` in total, the rest listed by digest only.

Files are taken oldest first and each is embedded if it still fits (a large one skipped does not stop a smaller
one after it); the same bytes attached twice are embedded once. The embedded file's name in the PDF starts with
its digest, so a reader matches it to its row without trusting the name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.storage import default_storage

from fmgov.evidence import conf
from fmgov.evidence.models import Attachment
from fmgov.evidence.selectors import attachments_for_deployment
from fmgov.registry.models import Deployment

__all__ = ["EmbeddedFile", "dossier_attachments", "dossier_embedded_files", "embedded_name"]


@dataclass(frozen=True)
class EmbeddedFile:
    """One file for the renderer to embed: opened only when it is copied for the renderer."""

    name: str
    sha256: str
    size: int
    description: str
    open: Callable[[], IO[bytes]]


def embedded_name(a: Attachment) -> str:
    return f"{a.sha256[:12]}-{a.name}"


def _parent(a: Attachment) -> dict[str, Any]:
    if a.incident_id:
        return {"kind": "incident", "id": a.incident_id, "label": f"Incident #{a.incident_id}"}
    if a.review_item_id:
        return {"kind": "risk_item", "id": a.review_item_id, "review": a.review_id,
                "label": f"Review #{a.review_id}, risk item #{a.review_item_id}"}  # fmt: skip
    return {"kind": "review", "id": a.review_id, "label": f"Review #{a.review_id}"}


def dossier_attachments(deployment: Deployment) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The dossier's ``attachments`` section and the audit-trail objects it names."""
    limit = conf.dossier_embed_bytes()
    embedded: dict[str, str] = {}
    embedded_bytes = 0
    rows = []
    for a in attachments_for_deployment(deployment):
        if a.sha256 not in embedded and embedded_bytes + a.size <= limit:
            embedded[a.sha256] = embedded_name(a)
            embedded_bytes += a.size
        newer = getattr(a, "superseded_by", None)
        rows.append({"id": a.pk, "name": a.name, "description": a.description, "sha256": a.sha256, "size": a.size,
                     "content_type": a.content_type, "revision": a.revision, "supersedes": a.supersedes_id,
                     "superseded_by": newer.pk if newer else None, "parent": _parent(a),
                     "uploaded_by": a.uploaded_by.username, "uploaded_at": a.created_at.isoformat(),
                     "effective_date": a.effective_date.isoformat(),
                     "expires_on": a.expires_on.isoformat() if a.expires_on else None,
                     "embedded_as": embedded.get(a.sha256)})  # fmt: skip
    section = {
        "files": rows,
        "embed_limit_bytes": limit,
        "embedded_bytes": embedded_bytes,
        "embedded_count": len(embedded),
        "listed_only": sum(1 for row in rows if row["embedded_as"] is None),
    }
    return section, [("evidence.attachment", str(row["id"])) for row in rows]


def dossier_embedded_files(section: dict[str, Any]) -> list[EmbeddedFile]:
    """What the renderer embeds for a dossier's ``attachments`` section: each digest once."""
    wanted: dict[str, dict[str, Any]] = {}
    for row in section.get("files", []):
        if row["embedded_as"] and row["sha256"] not in wanted:
            wanted[row["sha256"]] = row
    stored = {
        a.pk: a.file.name for a in Attachment.objects.filter(pk__in=[row["id"] for row in wanted.values()]).only("file")
    }
    return [
        EmbeddedFile(
            name=row["embedded_as"],
            sha256=row["sha256"],
            size=row["size"],
            description=f"Evidence file {row['name']} (rev. {row['revision']}) on {row['parent']['label']}; "
            f"SHA-256 {row['sha256']}.",
            open=lambda name=stored[row["id"]]: default_storage.open(name, "rb"),
        )
        for row in wanted.values()
    ]
