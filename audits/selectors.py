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


@dataclass
class _Walk:
    """How far the walk got: events verified, the last good hash, the hashes at checkpointed seqs."""

    length: int = 0
    prev_hash: str = GENESIS_HASH
    hash_at: dict[int, str] = field(default_factory=lambda: {0: GENESIS_HASH})
    failure: tuple[int, str] | None = None


def _walk_events(wanted: set[int]) -> _Walk:
    walk = _Walk()
    # Plain tuples, not model instances: verification reads every row.
    rows = AuditEvent.objects.order_by("seq").values_list(*HASHED_FIELDS, "hash").iterator(chunk_size=5000)
    for row in rows:
        seq, stored_hash, expected_seq = row[0], row[-1], walk.length + 1
        if seq != expected_seq:
            walk.failure = (expected_seq, f"gap: expected sequence {expected_seq}, found {seq}")
        elif row[-2] != walk.prev_hash:
            walk.failure = (seq, "previous hash does not match the hash of the event before it")
        else:
            canonical = dict(zip(HASHED_FIELDS, row[:-1], strict=True))
            canonical["timestamp"] = format_timestamp(canonical["timestamp"])
            if chain_hash(walk.prev_hash, canonical) != stored_hash:
                walk.failure = (seq, "hash mismatch: the stored event is not what was hashed")
        if walk.failure:
            return walk
        if seq in wanted:
            walk.hash_at[seq] = stored_hash
        walk.prev_hash, walk.length = stored_hash, walk.length + 1
    return walk


def _checkpoint_failure(walk: _Walk, checkpoints: list[Checkpoint]) -> tuple[int, str] | None:
    from audits.services import checkpoint_signature

    for cp in checkpoints:
        expected = checkpoint_signature(cp.seq, cp.head_hash, format_timestamp(cp.created_at))
        if expected != cp.signature:
            return cp.seq, f"checkpoint at sequence {cp.seq} has an invalid signature"
        if cp.seq > walk.length:
            return walk.length + 1, (
                f"missing tail: checkpoint of {format_timestamp(cp.created_at)} covers sequence {cp.seq} "
                f"but the chain ends at {walk.length}"
            )
        if walk.hash_at.get(cp.seq) != cp.head_hash:
            return cp.seq, f"checkpoint at sequence {cp.seq} names a different hash"
    return None


def _head_failure(walk: _Walk) -> tuple[int, str] | None:
    head_seq, head_hash = chain_head()
    if head_seq > walk.length:
        return walk.length + 1, (
            f"missing tail: the chain head records sequence {head_seq} but the chain ends at {walk.length}"
        )
    if head_seq == walk.length and walk.length and head_hash != walk.prev_hash:
        return walk.length, "the chain head records a different hash for the newest event"
    return None


def verify_chain() -> VerificationResult:
    """Walk the whole chain; name the first bad sequence number and why."""
    checkpoints = list(Checkpoint.objects.order_by("seq", "id"))
    walk = _walk_events({cp.seq for cp in checkpoints})
    failure = walk.failure or _checkpoint_failure(walk, checkpoints) or _head_failure(walk)
    if failure:
        return VerificationResult(False, walk.length, walk.prev_hash, failure[0], failure[1], 0)
    return VerificationResult(True, walk.length, walk.prev_hash, None, None, len(checkpoints))
