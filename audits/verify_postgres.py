"""The chain walk on PostgreSQL, fast: one server-side cursor, the bytes hashed in Python, the columns compared
with the bytes by the database itself.

Verification re-hashes each event's stored bytes (Python, hashlib) and checks
that the structured columns say what those bytes say. Decoding every row's
jsonb and re-encoding canonical JSON in Python costs far more than the hash, so
here PostgreSQL parses the bytes as jsonb and compares them with the columns
(jsonb equality compares numbers by value, as ``same_json`` does). Rows whose
bytes hold what jsonb cannot (``\\u0000``, lone surrogates), and any row the
database does not call equal, go through the exact Python comparison
(``selectors._event_failure``), which also names what differs. Bytes that are
not JSON at all make the query fail; the caller then walks the slow way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import connection

from audits.canonical import HASHED_FIELDS
from audits.models import AuditEvent

__all__ = ["walk_postgres"]

FETCH_ROWS = 20_000

# NULL (not comparable here, check in Python) when the text holds an escape jsonb refuses. OFFSET 0 keeps each
# lateral subquery from being inlined, so every row's bytes are parsed once, not once per column compared.
QUERY = r"""
SELECT e.seq, e.prev_hash, e.hash, e.canonical,
    (c.doc->'seq') = to_jsonb(e.seq)
    AND (c.doc->>'timestamp')::timestamptz = e.timestamp
    AND (c.doc->'actor_id') = coalesce(to_jsonb(e.actor_id), 'null'::jsonb)
    AND (c.doc->'actor_username') = to_jsonb(e.actor_username)
    AND (c.doc->'actor_system') = to_jsonb(e.actor_system)
    AND (c.doc->'action') = to_jsonb(e.action)
    AND (c.doc->'object_type') = to_jsonb(e.object_type)
    AND (c.doc->'object_id') = to_jsonb(e.object_id)
    AND (c.doc->'object_repr') = to_jsonb(e.object_repr)
    AND (c.doc->'changes') = e.changes
    AND (c.doc->'context') = e.context
    AND (c.doc->'prev_hash') = to_jsonb(e.prev_hash)
    AND (c.doc - %s::text[]) = '{}'::jsonb
FROM audits_auditevent e
CROSS JOIN LATERAL (SELECT convert_from(e.canonical, 'UTF8') AS text OFFSET 0) t
CROSS JOIN LATERAL (
    SELECT CASE WHEN strpos(t.text, '\u') > 0 AND t.text ~ '\\u(0000|d[89a-f])' THEN NULL ELSE t.text::jsonb END
    AS doc OFFSET 0
) c
ORDER BY e.seq
"""


def walk_postgres(walk, wanted: set[int], exact_failure: Callable[[tuple, str], str | None]) -> None:
    """Walk every event into ``walk`` (selectors._Walk); must run inside the snapshot's transaction."""
    sha256 = hashlib.sha256
    with connection.wrap_database_errors, connection.connection.cursor(name="fmgov_audit_verify") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(QUERY, [list(HASHED_FIELDS)])
        prev_hash, prev_ascii, length = walk.prev_hash, walk.prev_hash.encode("ascii"), walk.length
        for seq, row_prev, stored_hash, data, columns_agree in cursor:
            length += 1
            if seq != length:
                walk.failure = (length, f"gap: expected sequence {length}, found {seq}")
                break
            if row_prev != prev_hash:
                walk.failure = (seq, "previous hash does not match the hash of the event before it")
                break
            if sha256(prev_ascii + data).hexdigest() != stored_hash:
                walk.failure = (seq, "hash mismatch: the stored event is not what was hashed")
                break
            if columns_agree is not True:
                row = AuditEvent.objects.filter(seq=seq).values_list(*HASHED_FIELDS, "hash", "canonical").get()
                if reason := exact_failure(row, prev_hash):
                    walk.failure = (seq, reason)
                    break
            if seq in wanted:
                walk.hash_at[seq] = stored_hash
            prev_hash, prev_ascii, walk.length = stored_hash, stored_hash.encode("ascii"), length
        walk.prev_hash = prev_hash
