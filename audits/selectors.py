"""Reading and verifying the audit trail."""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet

from audits.canonical import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, format_timestamp, same_json, stored_form
from audits.models import AuditEvent, ChainHead, Checkpoint

__all__ = [
    "VerificationResult",
    "verify_chain",
    "audit_event_list",
    "events_for_objects",
    "chain_head",
    "read_snapshot",
]


@contextmanager
def read_snapshot(using: str = "default") -> Iterator[None]:
    """Read the events, the head and the checkpoints as of one moment, so a concurrent append is no false alarm.

    PostgreSQL's default READ COMMITTED gives every query its own snapshot;
    REPEATABLE READ gives the whole transaction one. SQLite's reads in one
    transaction already see one snapshot. Inside an outer transaction that
    already ran queries the level can no longer be set: that caller's
    transaction is the snapshot it gets.
    """
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


# VerificationResult.notes: how PostgreSQL's fast walk went (verify_postgres.walk_postgres).
CONCURRENT_LINKS = "the links were walked on a second connection in the same snapshot"
CONCURRENT_TAIL = "the unsigned tail was checked on another connection in the same snapshot"


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
    """Newest first. No join to the actor: the page shows the recorded username, and a join would go through the
    actor_id column, which an insider may have edited (``AuditEvent.from_db`` shows the bytes' actor_id)."""
    return AuditEvent.objects.order_by("-seq")


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
    concurrent: bool = False  # PostgreSQL: the links were walked on a second connection in the same snapshot
    ahead: Any = None  # PostgreSQL: the unsigned tail checked on another connection (_tail_ahead), if it was


def _column_mismatch(columns: dict[str, Any], data: bytes) -> str | None:
    """Which column says something other than the hashed bytes, if any (the slow, exact comparison).

    The bytes must also be an event in canonical form, as ``verify_export.py`` requires offline: JSON whose
    re-encoding is the same bytes (no repeated key, no other spelling).
    """
    try:
        values = json.loads(data)
    except (ValueError, RecursionError):
        return "the stored bytes are not JSON"
    if not isinstance(values, dict) or set(values) != set(HASHED_FIELDS):
        return "the stored bytes do not hold the event's fields"
    for name in HASHED_FIELDS:
        if not same_json(columns[name], stored_form(values[name])):
            return f"the {name} column differs from the hashed bytes"
    if canonical_bytes(values) != data:
        return "the stored bytes are not in canonical form (a repeated key or another spelling)"
    return None


# format_timestamp's text, "YYYY-MM-DDTHH:MM:SS.ffffff+00:00", and the '"}' that closes the event after it.
_TIMESTAMP_AND_END = 32 + 2


def _names_its_place(data: bytes, seq: int, prev_hash: str) -> bool:
    """Whether the bytes say the sequence number and previous hash of the row that holds them.

    The canonical keys sort ``prev_hash``, ``seq``, ``timestamp`` last, so a
    well-formed event ends with them: bytes copied from another event (a replay
    at the tail) or spliced do not, and this needs no JSON parsing.
    """
    place = f',"prev_hash":"{prev_hash}","seq":{seq},"timestamp":"'.encode()
    end = len(data) - _TIMESTAMP_AND_END
    return data.endswith(b'"}') and data[end - len(place) : end] == place


def _event_failure(row: tuple, prev_hash: str, *, columns: bool = True) -> str | None:
    """Why one event (``HASHED_FIELDS``, hash, bytes) fails after ``prev_hash``; with ``columns``, its columns too."""
    *columns_row, stored_hash, data = row
    data = bytes(data or b"")
    if columns_row[-1] != prev_hash:
        return "previous hash does not match the hash of the event before it"
    if hashlib.sha256(prev_hash.encode("ascii") + data).hexdigest() != stored_hash:
        return "hash mismatch: the stored event is not what was hashed"
    if not _names_its_place(data, columns_row[0], prev_hash):
        return "the stored bytes name another place in the chain (their sequence number or previous hash)"
    if not columns:
        return None
    values = dict(zip(HASHED_FIELDS, columns_row, strict=True))
    values["timestamp"] = format_timestamp(values["timestamp"])
    # Fast path: the columns spell exactly the hashed bytes. Otherwise compare value by value
    # (PostgreSQL's jsonb respells numbers; NUL is spelled out in the columns).
    if canonical_bytes(values) == data:
        return None
    return _column_mismatch(values, data)


def _walk_events(wanted: set[int], columns: bool, ahead: Callable[[], Any] | None = None) -> _Walk:
    """The walk; on PostgreSQL ``ahead`` may run on another connection in the same snapshot (``walk.ahead``)."""
    exact_failure = partial(_event_failure, columns=columns)
    if connections["default"].vendor == "postgresql":
        from django.db import DatabaseError

        from audits import verify_postgres

        snapshot = verify_postgres.export_snapshot()  # outside the savepoint: no subtransaction exports one
        try:
            with transaction.atomic():  # a savepoint: bytes that are not JSON fail the query, not the snapshot
                walk = _Walk()
                verify_postgres.walk_postgres(
                    walk, wanted, exact_failure, columns=columns, snapshot=snapshot, ahead=ahead
                )
                return walk
        except DatabaseError:
            pass  # walk the slow way below, which names the bad sequence number
    walk = _Walk()
    # Plain tuples, not model instances: verification reads every row. Only the bytes and the links unless the
    # columns are asked for. Closed here, inside the snapshot's transaction: a PostgreSQL server-side cursor left to
    # the garbage collector is closed after the transaction has ended, and that error aborts whatever transaction
    # the connection is in by then.
    fields = HASHED_FIELDS if columns else ("seq", "prev_hash")
    rows = AuditEvent.objects.order_by("seq").values_list(*fields, "hash", "canonical").iterator(chunk_size=5000)
    with closing(rows):
        for row in rows:
            seq, expected_seq = row[0], walk.length + 1
            if seq != expected_seq:
                walk.failure = (expected_seq, f"gap: expected sequence {expected_seq}, found {seq}")
                return walk
            if reason := exact_failure(row, walk.prev_hash):
                walk.failure = (seq, reason)
                return walk
            if seq in wanted:
                walk.hash_at[seq] = row[-2]
            walk.prev_hash, walk.length = row[-2], walk.length + 1
    return walk


def _checkpoint_failure(walk: _Walk, checkpoints: list[Checkpoint]) -> tuple[int, str] | None:
    from audits.checkpoints import checkpoint_signature_problem

    signer_began = min((cp.seq for cp in checkpoints if cp.algorithm == Checkpoint.ED25519), default=None)
    for cp in checkpoints:
        if cp.algorithm == Checkpoint.HMAC_SHA256 and signer_began is not None and cp.seq > signer_began:
            # HMAC checkpoints are from before the Ed25519 signer; their key is one every web process held, so
            # one above the signer's first checkpoint was made with that key, not by the signer.
            return cp.seq, (
                f"checkpoint at sequence {cp.seq}: an HMAC checkpoint after the Ed25519 signer's first, "
                f"at sequence {signer_began}"
            )
        problem = checkpoint_signature_problem(cp)
        if problem:
            return cp.seq, f"checkpoint at sequence {cp.seq}: {problem}"
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


def _unsigned_tail_failure(walk: _Walk, after: int) -> tuple[int, str, str] | None:
    """_tail_failure of the walked chain's tail; another connection's result if it checked this very tail."""
    if ahead := _ahead_for(walk, after):
        return ahead.failure
    return _tail_failure(after, walk.length, walk.hash_at[after])


def _tail_failure(after: int, upto: int, prev_hash: str) -> tuple[int, str, str] | None:
    """The exact check (canonical bytes, every column) of the events no signed checkpoint covers yet.

    The signer runs verification before it signs, so every event under a
    checkpoint passed this check when it was signed; the chain's hashes keep
    its bytes since. An insider's row at the tail (bytes that are no event, a
    repeated key, columns that disagree) fails here and is never signed.
    On PostgreSQL the server compares the columns (verify_postgres.ROW_CHECK)
    and Python only re-encodes the bytes, except for the rows it flags.
    """
    suspect = None
    if connections["default"].vendor == "postgresql":
        from django.db import DatabaseError

        from audits.verify_postgres import tail_rows_to_check

        try:
            with transaction.atomic():  # a savepoint: bytes that are not JSON fail the query, not the snapshot
                suspect = set(tail_rows_to_check(after, upto))
        except DatabaseError:
            suspect = None  # check every row of the tail the exact way
    fields = HASHED_FIELDS if suspect is None else ("seq", "prev_hash")
    rows = (
        AuditEvent.objects.filter(seq__gt=after, seq__lte=upto)
        .order_by("seq")
        .values_list(*fields, "hash", "canonical")
        .iterator(chunk_size=2000)
    )
    with closing(rows):
        for row in rows:
            if suspect is None:
                reason = _event_failure(row, prev_hash, columns=True)
            elif row[0] in suspect or not _is_canonical(bytes(row[-1])):
                full = AuditEvent.objects.filter(seq=row[0]).values_list(*HASHED_FIELDS, "hash", "canonical").get()
                reason = _event_failure(full, prev_hash, columns=True)
            else:
                reason = None
            if reason:
                return row[0], reason, prev_hash
            prev_hash = row[-2]
    return None


@dataclass(frozen=True)
class _TailAhead:
    """The unsigned tail's exact check, done before the walk ended for the chain the walk finds if it verifies."""

    after: int
    upto: int
    start_hash: str
    failure: tuple[int, str, str] | None


def _tail_ahead(after: int) -> _TailAhead | None:
    """_tail_failure from the newest event and the stored hash at ``after``, read in the walk's snapshot.

    A sound walk ends at the newest event and its hash at ``after`` is the
    stored one, so verify_chain uses this only when the walk says both.
    """
    upto = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    start = GENESIS_HASH if after == 0 else AuditEvent.objects.filter(seq=after).values_list("hash", flat=True).first()
    if start is None or upto < after:
        return None
    return _TailAhead(after, upto, start, _tail_failure(after, upto, start))


def _ahead_for(walk: _Walk, after: int) -> _TailAhead | None:
    """Another connection's tail check if it checked the tail this walk found (same start, end and hash)."""
    ahead = walk.ahead
    if ahead is not None and (ahead.after, ahead.upto, ahead.start_hash) == (after, walk.length, walk.hash_at[after]):
        return ahead
    return None


def _is_canonical(data: bytes) -> bool:
    try:
        return canonical_bytes(json.loads(data)) == data
    except (ValueError, RecursionError):
        return False


def verify_chain(*, columns: bool = False) -> VerificationResult:
    """Walk the whole chain, in one snapshot; name the first bad sequence number and why.

    Every event's stored bytes must re-hash, link to the event before and name
    their own place in the chain, and the signed checkpoints and the head must
    name hashes in it. The events after the newest checkpoint are also checked
    exactly (canonical bytes, columns equal to them): that is what the signer
    checks before it signs. Pages, the API and reports show what the bytes say
    (``AuditEvent.from_db``), so the columns of signed events only serve
    filtering; ``columns=True`` checks every event exactly, so that filters find
    what they should.
    """
    with read_snapshot():
        checkpoints = list(Checkpoint.objects.order_by("seq", "id"))
        # Only the Ed25519 signer checked what it signed exactly; an HMAC key was every web process's.
        signed = max((cp.seq for cp in checkpoints if cp.algorithm == Checkpoint.ED25519), default=0)
        walk = _walk_events({cp.seq for cp in checkpoints}, columns, None if columns else partial(_tail_ahead, signed))
        failure = walk.failure or _checkpoint_failure(walk, checkpoints) or _head_failure(walk)
        notes = [CONCURRENT_LINKS] if walk.concurrent else []
        if not failure and not columns:
            notes += [CONCURRENT_TAIL] if _ahead_for(walk, signed) else []
            if tail := _unsigned_tail_failure(walk, signed):
                failure = tail[:2]
                walk.length, walk.prev_hash = tail[0] - 1, tail[2]
    if failure:
        return VerificationResult(False, walk.length, walk.prev_hash, failure[0], failure[1], 0, notes)
    return VerificationResult(True, walk.length, walk.prev_hash, None, None, len(checkpoints), notes)
