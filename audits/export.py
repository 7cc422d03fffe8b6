"""Export of the trail as JSON Lines, verifiable offline by ``audits/verify_export.py``.

Every line is canonical JSON (see ``audits.canonical``):

1. ``{"type": "header", "format": "fmgov-audit-trail", "version": 1, "genesis": ..., "exported_at": ...}``
2. one ``{"type": "event", <the hashed fields>, "hash": ...}`` per event, in sequence order
3. one ``{"type": "checkpoint", "seq", "head_hash", "created_at", "signature"}`` per checkpoint
4. ``{"type": "trailer", "events": n, "checkpoints": m, "sha256": <of every byte before this line>}``
"""

import hashlib
from typing import IO

from django.utils import timezone

from audits.canonical import GENESIS_HASH, canonical_json, format_timestamp
from audits.models import AuditEvent, Checkpoint

__all__ = ["export_trail"]


def export_trail(stream: IO[bytes]) -> tuple[int, int]:
    digest = hashlib.sha256()

    def write(obj: dict) -> None:
        line = (canonical_json(obj) + "\n").encode("utf-8")
        digest.update(line)
        stream.write(line)

    write(
        {
            "type": "header",
            "format": "fmgov-audit-trail",
            "version": 1,
            "genesis": GENESIS_HASH,
            "exported_at": format_timestamp(timezone.now()),
        }
    )
    events = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        write({"type": "event", **event.canonical(), "hash": event.hash})
        events += 1
    checkpoints = 0
    for cp in Checkpoint.objects.order_by("seq", "id"):
        write(
            {
                "type": "checkpoint",
                "seq": cp.seq,
                "head_hash": cp.head_hash,
                "created_at": format_timestamp(cp.created_at),
                "signature": cp.signature,
            }
        )
        checkpoints += 1
    trailer = {"type": "trailer", "events": events, "checkpoints": checkpoints, "sha256": digest.hexdigest()}
    stream.write((canonical_json(trailer) + "\n").encode("utf-8"))
    return events, checkpoints
