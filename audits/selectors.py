"""Reading and verifying the audit trail."""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet

from audits.canonical import GENESIS_HASH, HASHED_FIELDS, chain_hash, format_timestamp
from audits.models import AuditEvent, ChainHead, Checkpoint

__all__ = ["VerificationResult", "verify_chain", "audit_event_list", "events_for_objects", "chain_head"]


@dataclass
class VerificationResult:
    ok: bool
    length: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("notes")
        return data


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.select_related("actor").order_by("-seq")


def events_for_objects(pairs: list[tuple[str, str]]) -> QuerySet[AuditEvent]:
    """Events of several objects, e.g. everything in a deployment dossier."""
    from django.db.models import Q

    query = Q(pk__in=[])
    for object_type, object_id in pairs:
        query |= Q(object_type=object_type, object_id=str(object_id))
    return AuditEvent.objects.filter(query).order_by("seq")


def chain_head() -> tuple[int, str]:
    head = ChainHead.objects.filter(pk=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


def verify_chain() -> VerificationResult:
    """Walk the whole chain; name the first bad sequence number and why."""
    from audits.services import checkpoint_signature

    checkpoints = list(Checkpoint.objects.order_by("seq", "id"))
    wanted = {cp.seq for cp in checkpoints}
    hash_at: dict[int, str] = {0: GENESIS_HASH}
    prev_hash, expected_seq, length = GENESIS_HASH, 1, 0

    def bad(seq: int, reason: str) -> VerificationResult:
        return VerificationResult(False, length, prev_hash, seq, reason, 0)

    # Plain tuples, not model instances: verification reads every row.
    rows = AuditEvent.objects.order_by("seq").values_list(*HASHED_FIELDS, "hash").iterator(chunk_size=5000)
    for row in rows:
        seq, stored_hash = row[0], row[-1]
        if seq != expected_seq:
            return bad(expected_seq, f"gap: expected sequence {expected_seq}, found {seq}")
        if row[-2] != prev_hash:
            return bad(seq, "previous hash does not match the hash of the event before it")
        canonical = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
        canonical["timestamp"] = format_timestamp(canonical["timestamp"])
        if chain_hash(prev_hash, canonical) != stored_hash:
            return bad(seq, "hash mismatch: the stored event is not what was hashed")
        if seq in wanted:
            hash_at[seq] = stored_hash
        prev_hash, expected_seq, length = stored_hash, expected_seq + 1, length + 1

    for cp in checkpoints:
        expected = checkpoint_signature(cp.seq, cp.head_hash, format_timestamp(cp.created_at))
        if expected != cp.signature:
            return bad(cp.seq, f"checkpoint at sequence {cp.seq} has an invalid signature")
        if cp.seq > length:
            return bad(
                length + 1,
                f"missing tail: checkpoint of {format_timestamp(cp.created_at)} covers sequence {cp.seq} "
                f"but the chain ends at {length}",
            )
        if hash_at.get(cp.seq) != cp.head_hash:
            return bad(cp.seq, f"checkpoint at sequence {cp.seq} names a different hash")

    head_seq, head_hash = chain_head()
    if head_seq > length:
        return bad(
            length + 1, f"missing tail: the chain head records sequence {head_seq} but the chain ends at {length}"
        )
    if head_seq == length and length and head_hash != prev_hash:
        return bad(length, "the chain head records a different hash for the newest event")
    return VerificationResult(True, length, prev_hash, None, None, len(checkpoints))
