"""The chain walk on PostgreSQL, fast: the server checks every row and returns only the rows to look at.

Verification re-hashes each event's stored bytes (and, when asked, checks that
the structured columns say what those bytes say). Fetching 100,000 events' bytes
into Python costs more than hashing them, so PostgreSQL does it, set-based,
inside the verifier's REPEATABLE READ snapshot, and Python only walks what it
returns:

1. ``HASH_CHECK``, or ``ROW_CHECK`` with the columns (both row-local, so
   PostgreSQL may split them across parallel workers), returns the sequence
   numbers of rows whose bytes do not re-hash with their ``prev_hash``
   (``sha256()``, built in since PostgreSQL 11) or whose columns it cannot
   call equal to the bytes. The canonical JSON has its
   keys sorted, ``{"action":…,"actor_id":…,"actor_system":…,"actor_username":…,
   "changes":…,"context":…,"object_id":…,"object_repr":…,"object_type":…,
   "prev_hash":…,"seq":…,"timestamp":"…"}``, so the bytes must begin and end
   with exactly what ``to_json`` spells for the scalar columns (it escapes text
   as ``json.dumps`` does); only the part between, the changes and context, is
   parsed as jsonb and compared with those two columns (numbers by value, as
   ``same_json`` does). Parsing and comparing whole events as jsonb cost about
   half as much again as this whole query.
2. ``CHAIN`` walks sequence numbers and hashes in order (window functions over
   the narrow columns of a covering index) and returns the rows out of place
   (a gap, a repeated seq) or whose ``prev_hash`` is not the hash before it,
   the checkpointed rows and the newest row.

Every row returned by 1. goes through the exact Python check
(``selectors._event_failure``), which decides and names what differs: bytes
holding what jsonb refuses (``\\u0000``, lone surrogates; their columns spell
them out), or a real forgery. A row whose bytes re-hash and whose ends agree
but whose middle is not JSON (a rewritten, re-hashed event) fails the query;
the caller then walks the slow way in the same snapshot.

1. keeps every core busy only while it runs; 2. and the exact check of the
unsigned tail run on one each. So when the verifying transaction can share
its snapshot (``export_snapshot``: REPEATABLE READ, nothing written, no
savepoint), two threads with a connection of their own import it, check they
see exactly that snapshot, and run 2. and the tail check while this
connection runs 1. Anything failing there only means it runs here after 1.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from django.db import connection, connections, transaction

from audits.canonical import HASHED_FIELDS
from audits.models import AuditEvent

__all__ = ["Snapshot", "export_snapshot", "walk_postgres", "tail_rows_to_check"]

# The scalar columns as the canonical JSON spells them before and after the changes and context. unnest(ARRAY[x])
# makes head and tail columns of their own level, built once per row rather than once per use, while the query stays
# row-local so that PostgreSQL can run it in parallel workers (OFFSET 0 would do the first, not the second).
# The CASE decides in order: the bytes must re-hash before they are read, and parsed only if the ends agree.
ROW_CHECK = r"""
SELECT p.seq
FROM (
    SELECT e.seq, e.changes, e.context, e.canonical, e.prev_hash, e.hash,
        unnest(ARRAY[convert_to(
            '{"action":' || to_json(e.action) || ',"actor_id":' || coalesce(e.actor_id::text, 'null')
            || ',"actor_system":' || to_json(e.actor_system) || ',"actor_username":' || to_json(e.actor_username)
            || ',"changes":', 'UTF8')]) AS head,
        unnest(ARRAY[convert_to(
            ',"object_id":' || to_json(e.object_id) || ',"object_repr":' || to_json(e.object_repr)
            || ',"object_type":' || to_json(e.object_type) || ',"prev_hash":' || to_json(e.prev_hash)
            || ',"seq":' || e.seq || ',"timestamp":"'
            || to_char(e.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"}', 'UTF8')]) AS tail
    FROM audits_auditevent e
) p
WHERE (CASE
    WHEN encode(sha256(convert_to(p.prev_hash, 'UTF8') || p.canonical), 'hex') <> p.hash THEN false
    WHEN substr(p.canonical, 1, length(p.head)) <> p.head
        OR substr(p.canonical, length(p.canonical) - length(p.tail) + 1) <> p.tail THEN false
    -- what jsonb refuses (an escaped NUL or lone surrogate; '\x5c75' is the bytes of "\u"): the exact check
    WHEN position('\x5c75'::bytea IN p.canonical) > 0
        AND convert_from(p.canonical, 'UTF8') ~* '\\u(0000|d[89a-f])' THEN NULL
    ELSE ('{"changes":' || convert_from(substr(p.canonical, length(p.head) + 1,
            length(p.canonical) - length(p.head) - length(p.tail)), 'UTF8') || '}')::jsonb
        = jsonb_build_object('changes', p.changes, 'context', p.context)
END) IS NOT TRUE
"""

# Only the bytes: the rows whose bytes do not re-hash with their prev_hash (verification without the columns).
# That the bytes also name their own place (selectors._names_its_place) is checked exactly for the events after the
# newest checkpoint; every event under a checkpoint passed that check when the signer signed it, and its bytes,
# prev_hash and seq cannot change since without breaking the hashes, the links or the sequence.
HASH_CHECK = r"""
SELECT seq FROM audits_auditevent
WHERE encode(sha256(convert_to(prev_hash, 'UTF8') || canonical), 'hex') IS DISTINCT FROM hash
"""

# Rows out of place (a gap or a repeated seq: the seq is not the row's place in the order) or whose link to the hash
# before breaks, and the rows asked for; then the newest row (how far the chain goes, its last hash), by the primary
# key in the same statement (so the same snapshot at any isolation level). Two window functions: with the two more it
# had before (a lag of seq for the gaps, a lead to find the newest) the query took about a third longer.
# Once one row is out of place every later row is too, so the window's rows stop after the rows asked for and one
# more (``most``): the walk stops at the first failure, which comes at the latest after all the rows asked for, and a
# single row inserted out of place (seq 0) does not make it return a million.
CHAIN = r"""
(SELECT seq, n, hash, before, seq <> %(start_seq)s::bigint + n, prev_hash <> before, false
FROM (
    SELECT seq, prev_hash, hash, row_number() OVER w AS n, lag(hash, 1, %(start_hash)s::varchar) OVER w AS before
    FROM audits_auditevent
    WINDOW w AS (ORDER BY seq)
) chain
WHERE seq <> %(start_seq)s::bigint + n OR prev_hash <> before OR seq = ANY(%(seqs)s::bigint[])
ORDER BY seq LIMIT %(most)s)
UNION ALL
(SELECT seq, NULL, hash, prev_hash, false, false, true FROM audits_auditevent ORDER BY seq DESC LIMIT 1)
"""

# The planner prices these expressions as cheap and would not start workers; the row check is CPU-bound.
# JIT compilation takes longer than the whole query.
SETTINGS = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0", "jit": "off"}


def _rows_to_check(cursor, query: str, params: dict | None = None) -> list[int]:
    """``query`` under SETTINGS, then the settings as they were (if it fails, the caller's savepoint undoes them)."""
    names = list(SETTINGS)
    cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
    before = dict(zip(names, cursor.fetchone(), strict=True))
    _set_local(cursor, SETTINGS)
    cursor.execute(query, params)
    suspect = [seq for (seq,) in cursor.fetchall()]
    _set_local(cursor, before)
    return suspect


def _set_local(cursor, settings: dict[str, str]) -> None:
    """All of them in one statement: each is a round trip to a server that may be busy."""
    cursor.execute(
        "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)),
        [item for pair in settings.items() for item in pair],
    )


# The snapshot of the verifying transaction, for other connections, when they would see the same rows:
# a transaction with a transaction id has written rows no other connection can see, snapshot or not. With it, the
# snapshot itself (xmin:xmax:in-progress ids), which each of them checks it now has.
EXPORT = """
SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL
    AND current_setting('transaction_isolation') = 'repeatable read' THEN pg_export_snapshot() END,
    pg_current_snapshot()::text
"""
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")


class Snapshot(NamedTuple):
    id: str  # pg_export_snapshot()'s, for SET TRANSACTION SNAPSHOT
    seen: str  # pg_current_snapshot() where it was exported


def export_snapshot() -> Snapshot | None:
    """This REPEATABLE READ transaction's snapshot, or None where another connection could not share it.

    PostgreSQL exports no snapshot from a subtransaction (a savepoint), and that
    error would abort the verifying transaction: Django's savepoints are checked
    first. Must run in the verifying transaction, outside any savepoint.
    """
    if not connection.in_atomic_block or any(connection.savepoint_ids):
        return None
    with connection.cursor() as cursor:
        cursor.execute(EXPORT)
        snapshot, seen = cursor.fetchone()
    return Snapshot(snapshot, seen) if snapshot and _SNAPSHOT_ID.fullmatch(snapshot) else None


class _Beside(threading.Thread):
    """``work(cursor)`` on this thread's own connection (Django's are per thread), in the snapshot ``snapshot``."""

    def __init__(self, snapshot: Snapshot, work: Callable):
        super().__init__(name="audit-verify-beside", daemon=True)
        self.snapshot, self.work = snapshot, work
        self.result, self.error = None, None

    def run(self) -> None:
        second = connections["default"]
        try:
            second.ensure_connection()  # the connection's own set-up runs before the transaction begins
            with transaction.atomic(), second.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                # A lock queued on the table after the verifying transaction's (an ALTER, a LOCK TABLE) would hold
                # this connection behind it while the verifying thread waits for this one, a wait no deadlock
                # detector sees: this connection gives up instead, and the verifying one walks without it.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot.id}'")  # checked: hex, '-', digits
                cursor.execute("SELECT pg_current_snapshot()::text")
                if cursor.fetchone()[0] != self.snapshot.seen:
                    raise RuntimeError("this connection does not see the verifying transaction's snapshot")
                self.result = self.work(cursor)
        except BaseException as error:  # handed to the verifying thread, which then walks without it
            self.error = error
        finally:
            second.close()

    def begin(self) -> _Beside:
        try:
            self.start()
        except RuntimeError as error:  # no thread to be had: the caller does without
            self.error = error
        return self

    def outcome(self):
        """The work's result, or None when it failed (the caller then does it on its own connection)."""
        if self.ident is not None:  # started
            self.join()
        return None if self.error else self.result


# One verification at a time per process takes two more connections: when several run at once the cores are busy
# anyway, and each would hold three of the server's connections.
_ONE_AT_A_TIME = threading.BoundedSemaphore(1)


def _chain_rows(cursor, params: dict) -> list[tuple]:
    cursor.execute(CHAIN, params)
    return cursor.fetchall()


def walk_postgres(
    walk,
    wanted: set[int],
    exact_failure: Callable[[tuple, str], str | None],
    *,
    columns: bool,
    snapshot: Snapshot | None = None,
    ahead: Callable[[], Any] | None = None,
) -> None:
    """Walk every event into ``walk`` (selectors._Walk); must run inside the snapshot's transaction.

    With ``snapshot`` (export_snapshot), unless another walk of this process
    is doing so, a second connection walks the links in that snapshot and a
    third runs ``ahead`` (its result in ``walk.ahead``), while this one
    re-hashes every row. If the links fail there, they are walked here after
    the re-hashing; if ``ahead`` fails, ``walk.ahead`` stays None.
    """
    params = {"start_hash": walk.prev_hash, "start_seq": walk.length, "seqs": sorted(wanted), "most": len(wanted) + 1}
    shared = snapshot is not None and _ONE_AT_A_TIME.acquire(blocking=False)
    try:
        links = _Beside(snapshot, partial(_chain_rows, params=params)).begin() if shared else None
        also = _Beside(snapshot, lambda _: ahead()).begin() if shared and ahead else None
        try:
            with connection.cursor() as cursor:
                suspect = set(_rows_to_check(cursor, ROW_CHECK if columns else HASH_CHECK))
        finally:  # joined even when the check failed (or a join was interrupted): no thread outlives it
            try:
                rows = links.outcome() if links else None
            finally:
                walk.ahead = also.outcome() if also else None
    finally:
        if shared:
            _ONE_AT_A_TIME.release()
    walk.concurrent = rows is not None
    if rows is None:
        with connection.cursor() as cursor:
            rows = _chain_rows(cursor, params)
    _walk_rows(walk, rows, suspect, wanted, exact_failure)


def _places(rows: list[tuple], suspect: set[int], start: int) -> dict[tuple[int, int], list]:
    """CHAIN's rows and the flagged rows by (place, seq): [hash, hash before, out of place, unlinked, newest].

    The window's rows know their place. Up to the first row out of place
    (which the window returns) a row's place is its seq and, unless the window
    returns it as unlinked, the hash before it is its own prev_hash (None here:
    the exact check reads it). The newest row is returned apart, at its seq.
    """
    places: dict[tuple[int, int], list] = {}
    for seq, n, stored_hash, before, out_of_place, unlinked, _ in (row for row in rows if row[1] is not None):
        places[(start + n, seq)] = [stored_hash, before, out_of_place, unlinked, False]
    for seq, _, stored_hash, prev_hash, *_ in (row for row in rows if row[1] is None):
        places.setdefault((seq, seq), [stored_hash, prev_hash, False, False, False])[4] = True
    for seq in suspect:  # a flagged row at or before the start is out of place, which the window returns
        if seq > start:
            places.setdefault((seq, seq), [None, None, False, False, False])
    return places


def _walk_rows(walk, rows: list[tuple], suspect: set[int], wanted: set[int], exact_failure: Callable) -> None:
    """Walk CHAIN's rows and the flagged rows in order into ``walk``; the exact check decides each flagged row."""
    places = _places(rows, suspect, walk.length)
    for position, seq in sorted(places):
        stored_hash, before, out_of_place, unlinked, newest = places[(position, seq)]
        if out_of_place or seq != position:
            walk.failure = (position, f"gap: expected sequence {position}, found {seq}")
            break
        if unlinked:
            walk.failure = (seq, "previous hash does not match the hash of the event before it")
            break
        if seq in suspect:
            row = AuditEvent.objects.filter(seq=seq).values_list(*HASHED_FIELDS, "hash", "canonical").get()
            before = row[-3] if before is None else before  # its prev_hash: the window found its link intact
            if reason := exact_failure(row, before):
                walk.failure = (seq, reason)
                break
        if seq in wanted:
            walk.hash_at[seq] = stored_hash
        if newest:
            walk.length, walk.prev_hash = position, stored_hash
    else:
        return  # no failure: the newest row set the length and the last hash
    walk.length, walk.prev_hash = position - 1, before  # verified up to the row before the failing one


# ROW_CHECK over the events after the newest checkpoint only.
TAIL_ROW_CHECK = ROW_CHECK.replace(
    "    FROM audits_auditevent e\n", "    FROM audits_auditevent e WHERE e.seq > %(after)s AND e.seq <= %(upto)s\n"
)
assert TAIL_ROW_CHECK != ROW_CHECK


def tail_rows_to_check(after: int, upto: int) -> list[int]:
    """Sequence numbers after ``after`` (up to ``upto``) whose columns PostgreSQL cannot call equal to their bytes.

    Raises DatabaseError when bytes in that range are not JSON (the caller checks those rows the exact way).
    """
    with connection.cursor() as cursor:  # a few thousand rows at most: no parallel workers to price in
        cursor.execute(TAIL_ROW_CHECK, {"after": after, "upto": upto})
        return [seq for (seq,) in cursor.fetchall()]
