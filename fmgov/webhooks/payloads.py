"""What a delivery says: the audit event (or checkpoint) it comes from, in the fmgov or the Slack format.

The body is built once, when the delivery is created, and serialised the same
way on every attempt (sorted keys, no whitespace, UTF-8), so every attempt
sends identical bytes under the same delivery id; only the timestamp and so
the signature change.
"""

import json
from typing import Any

from audits.canonical import format_timestamp
from audits.models import AuditEvent, Checkpoint
from fmgov.webhooks.choices import CHECKPOINT_EVENT, PayloadFormat

__all__ = ["event_reference", "checkpoint_reference", "build_payload", "body_bytes"]


def event_reference(event: AuditEvent) -> dict[str, Any]:
    """The audit event a delivery reports: where it sits in the chain, what happened, to what, by whom."""
    return {
        "sequence": event.seq,
        "hash": event.hash,
        "action": event.action,
        "timestamp": format_timestamp(event.timestamp),
        "actor": event.actor_username or event.actor_system,
        "object": {"type": event.object_type, "id": event.object_id, "repr": event.object_repr},
    }


def checkpoint_reference(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint names the head it signed: the sequence and hash of the last audit event it covers."""
    return {
        "sequence": checkpoint.seq,
        "hash": checkpoint.head_hash,
        "action": CHECKPOINT_EVENT,
        "timestamp": format_timestamp(checkpoint.created_at),
        "actor": "audit-signer",
        "object": {"type": "audits.checkpoint", "id": str(checkpoint.pk), "repr": str(checkpoint)},
        "signature": {"algorithm": checkpoint.algorithm, "key_id": checkpoint.key_id, "value": checkpoint.signature},
    }


def _slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup (links, mentions); a record's name must not ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_payload(*, delivery_id: str, event_type: str, reference: dict[str, Any], fmt: str) -> dict[str, Any]:
    if fmt == PayloadFormat.SLACK:
        obj = reference["object"]
        subject = f"{obj['type']} {obj['id']}".strip()
        name = f" “{obj['repr']}”" if obj["repr"] else ""
        text = (
            f"fmgov {event_type}: {subject}{name} by {reference['actor'] or 'system'} "
            f"(audit event #{reference['sequence']}, hash {reference['hash'][:16]}…)"
        )
        return {"text": _slack_escape(text)}
    return {"id": delivery_id, "type": event_type, "audit_event": reference}


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
