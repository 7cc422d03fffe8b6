"""Export of the trail as JSON Lines, verifiable offline by ``audits/verify_export.py``.

Every line is canonical JSON (see ``audits.canonical``):

1. ``{"type": "header", "format": "fmgov-audit-trail", "version": 2, "genesis": ..., "exported_at": ...}``
2. one ``{"type": "event", <the hashed fields>, "hash": ...}`` per event, in sequence order; the hashed
   fields are parsed from the stored bytes, whose canonical JSON they re-form exactly
3. one ``{"type": "checkpoint", "seq", "head_hash", "created_at", "algorithm", "key_id", "signature",
   "timestamps"}`` per checkpoint (Ed25519 over the canonical JSON of seq, head_hash, created_at and key_id; see
   audits.signing); ``timestamps`` is ``[{"tsa": url, "token": base64 of the DER TimeStampToken}]``, each over
   SHA-256 of the canonical JSON of the six fields before it (audits.timestamps.checkpoint_statement)
4. ``{"type": "trailer", "events": n, "checkpoints": m, "sha256": <of every byte before this line>}``

Version 2 (issue 14): events come from the bytes that were hashed, not from the
columns, and lone surrogates are escaped in canonical JSON. Version 3: checkpoints
carry their RFC 3161 timestamp tokens. Everything is read
in one snapshot, so an append during the export cannot cut it short or leave a
checkpoint beyond its last event.
"""

import base64
import hashlib
from typing import IO

from django.utils import timezone

from audits.canonical import GENESIS_HASH, canonical_json, format_timestamp
from audits.models import AuditEvent, Checkpoint, CheckpointAnchor
from audits.selectors import read_snapshot
from audits.timestamps import checkpoint_record

__all__ = ["EXPORT_FORMAT_VERSION", "export_trail"]

EXPORT_FORMAT_VERSION = 3


def export_trail(stream: IO[bytes]) -> tuple[int, int]:
    """Write the trail, read in one snapshot; returns (events, checkpoints)."""
    with read_snapshot():
        return _export(stream)


def _export(stream: IO[bytes]) -> tuple[int, int]:
    digest = hashlib.sha256()

    def write(obj: dict) -> None:
        line = (canonical_json(obj) + "\n").encode("utf-8")
        digest.update(line)
        stream.write(line)

    write(
        {
            "type": "header",
            "format": "fmgov-audit-trail",
            "version": EXPORT_FORMAT_VERSION,
            "genesis": GENESIS_HASH,
            "exported_at": format_timestamp(timezone.now()),
        }
    )
    events = 0
    for event in AuditEvent.objects.order_by("seq").only("seq", "hash", "canonical").iterator(chunk_size=2000):
        write({"type": "event", **event.hashed_values(), "hash": event.hash})
        events += 1
    checkpoints = 0
    tokens: dict[int, list[dict[str, str]]] = {}
    stamps = CheckpointAnchor.objects.filter(kind=CheckpointAnchor.TIMESTAMP).order_by("checkpoint_id", "target")
    for checkpoint_id, tsa, token in stamps.values_list("checkpoint_id", "target", "token"):
        tokens.setdefault(checkpoint_id, []).append({"tsa": tsa, "token": base64.b64encode(bytes(token)).decode()})
    for cp in Checkpoint.objects.order_by("seq", "id"):
        write({"type": "checkpoint", **checkpoint_record(cp), "timestamps": tokens.get(cp.pk, [])})
        checkpoints += 1
    trailer = {"type": "trailer", "events": events, "checkpoints": checkpoints, "sha256": digest.hexdigest()}
    stream.write((canonical_json(trailer) + "\n").encode("utf-8"))
    return events, checkpoints
