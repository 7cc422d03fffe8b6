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
   the narrow columns) and returns the rows where the sequence jumps or a
   ``prev_hash`` is not the hash before it, the rows from 1., the checkpointed
   rows and the newest row.

Every row returned by 1. goes through the exact Python check
(``selectors._event_failure``), which decides and names what differs: bytes
holding what jsonb refuses (``\\u0000``, lone surrogates; their columns spell
them out), or a real forgery. A row whose bytes re-hash and whose ends agree
but whose middle is not JSON (a rewritten, re-hashed event) fails the query;
the caller then walks the slow way in the same snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection

from audits.canonical import HASHED_FIELDS
from audits.models import AuditEvent

__all__ = ["walk_postgres", "tail_rows_to_check"]

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

# Rows where the sequence jumps (the first of a gap) or the link to the hash before breaks, the rows asked for, and
# the newest row (lead() IS NULL): how far the chain goes and its last hash.
CHAIN = r"""
SELECT seq, n, hash, before, seq <> seq_before + 1, prev_hash <> before, last
FROM (
    SELECT seq, prev_hash, hash, row_number() OVER w AS n,
        lag(hash, 1, %(start_hash)s::varchar) OVER w AS before,
        lag(seq, 1, %(start_seq)s::bigint) OVER w AS seq_before,
        lead(seq) OVER w IS NULL AS last
    FROM audits_auditevent
    WINDOW w AS (ORDER BY seq)
) chain
WHERE seq <> seq_before + 1 OR prev_hash <> before OR last OR seq = ANY(%(seqs)s::bigint[])
ORDER BY seq
"""

# The planner prices these expressions as cheap and would not start workers; the row check is CPU-bound.
# JIT compilation takes longer than the whole query.
SETTINGS = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0", "jit": "off"}


def _rows_to_check(cursor, query: str, params: dict | None = None) -> list[int]:
    """``query`` under SETTINGS, then the settings as they were (if it fails, the caller's savepoint undoes them)."""
    names = list(SETTINGS)
    cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
    before = dict(zip(names, cursor.fetchone(), strict=True))
    for name, value in SETTINGS.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    cursor.execute(query, params)
    suspect = [seq for (seq,) in cursor.fetchall()]
    for name, value in before.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    return suspect


def walk_postgres(walk, wanted: set[int], exact_failure: Callable[[tuple, str], str | None], *, columns: bool) -> None:
    """Walk every event into ``walk`` (selectors._Walk); must run inside the snapshot's transaction."""
    with connection.cursor() as cursor:
        suspect = _rows_to_check(cursor, ROW_CHECK if columns else HASH_CHECK)
        params = {"start_hash": walk.prev_hash, "start_seq": walk.length, "seqs": sorted(set(suspect) | wanted)}
        cursor.execute(CHAIN, params)
        rows = cursor.fetchall()
    suspect_set = set(suspect)
    for seq, n, stored_hash, before, jumps, unlinked, last in rows:
        position = walk.length + n
        if jumps or seq != position:
            walk.failure = (position, f"gap: expected sequence {position}, found {seq}")
            break
        if unlinked:
            walk.failure = (seq, "previous hash does not match the hash of the event before it")
            break
        if seq in suspect_set:
            row = AuditEvent.objects.filter(seq=seq).values_list(*HASHED_FIELDS, "hash", "canonical").get()
            if reason := exact_failure(row, before):
                walk.failure = (seq, reason)
                break
        if seq in wanted:
            walk.hash_at[seq] = stored_hash
        if last:
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
