"""Verification's fast walk (audits/verify_postgres.py on PostgreSQL) names the same forgeries as the exact one.

PostgreSQL re-hashes every event and compares its columns with its bytes in the
server, returning only the rows to look at; Python's exact check then names
what differs. These tests forge events the ways an insider with database access
would (edit bytes, edit columns, rewrite bytes and re-hash the rest of the
chain) and check the first bad sequence number and the reason, on SQLite and
PostgreSQL. On PostgreSQL they also check that an honest chain with awkward
text and numbers needs no row-by-row look, and that no forgery but bytes that
are not JSON sends the walk down the slow path.
"""

import hashlib

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audits.canonical import canonical_bytes
from audits.models import AuditEvent
from audits.selectors import verify_chain
from audits.services import audit_record
from audits.tests.test_chain import _tamper

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'")

AWKWARD = 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f sep \u2028 emoji 🦜 ünï'


def _append(i: int, **overrides) -> AuditEvent:
    values = {
        "action": "test.verify",
        "system": "tests",
        "object_type": "test.thing",
        "object_id": i,
        "object_repr": f"thing {i}",
        "changes": {"value": [i, i + 1], "ratio": [None, 0.1 * i]},
        "context": {"request_id": f"{i:032x}"},
    }
    with transaction.atomic():
        return audit_record(**(values | overrides))


def _verify(*, columns: bool = False):
    """verify_chain, the rows it read one by one, and whether PostgreSQL's walk fell back to reading every row."""
    with CaptureQueriesContext(connection) as queries:
        result = verify_chain(columns=columns)
    sql = [q["sql"] for q in queries.captured_queries]
    one_by_one = [s for s in sql if '"canonical"' in s and 'WHERE "audits_auditevent"."seq" =' in s]
    fell_back = connection.vendor == "postgresql" and any('"canonical"' in s and "WHERE" not in s for s in sql)
    return result, one_by_one, fell_back


def _rewrite(seq: int, data: bytes) -> None:
    """An insider's rewrite: new bytes for event ``seq``, then every later hash, link and the head re-computed."""
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values_list("seq", "canonical"))
    prev = AuditEvent.objects.get(seq=seq).prev_hash
    for number, stored in rows:
        if number != seq:
            values = AuditEvent(canonical=stored, seq=number).hashed_values()
            data = canonical_bytes(values | {"prev_hash": prev})
        digest = hashlib.sha256(prev.encode("ascii") + data).hexdigest()
        _tamper(
            "UPDATE audits_auditevent SET canonical = %s, hash = %s, prev_hash = %s WHERE seq = %s",
            [data, digest, prev, number],
        )
        prev = digest
    _tamper("UPDATE audits_chainhead SET hash = %s WHERE id = 1", [prev])


@postgres_only
def test_awkward_text_and_numbers_verify_without_a_row_by_row_look(engineer):
    """to_json in the server spells text as canonical_json does; jsonb compares respelled numbers by value."""
    _append(0, actor=engineer, system="")
    _append(1, action=AWKWARD, object_repr=AWKWARD, object_id=AWKWARD[:60])
    _append(2, system=AWKWARD, changes={AWKWARD: [3.8e25, [-0.0, 1e-7, 2**70, 1.7976931348623157e308, 5e-324]]})
    _append(3, context={"nested": [{"b": {"ä": None}, "a": [True, False, ""]}] * 3, "": AWKWARD})
    result, one_by_one, fell_back = _verify()
    assert result.ok and result.length == AuditEvent.objects.count(), result
    assert one_by_one == [] and not fell_back


def test_text_jsonb_refuses_is_checked_exactly_and_passes():
    """NUL and lone surrogates: the columns hold them spelled out, so the exact check decides (and agrees)."""
    _append(0, object_repr="nul \x00 here", changes={"k\x00": ["\ud800", None]})
    _append(1)
    result, one_by_one, fell_back = _verify()  # both events are after the newest checkpoint (none): checked exactly
    assert result.ok and result.length == 2, result
    assert not fell_back
    if connection.vendor == "postgresql":
        assert len(one_by_one) == 1
    result, one_by_one, fell_back = _verify(columns=True)
    assert result.ok and result.length == 2, result
    assert not fell_back
    if connection.vendor == "postgresql":
        assert len(one_by_one) == 1


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"action":"test.verify"', b'"action":"test.verifz"'),  # the scalar part before the changes
        (b'"value":[1,2]', b'"value":[1,3]'),  # inside the changes
        (b'{"request_id"', b'["request_id"'),  # the bytes stop being JSON
        (b'"object_repr":"thing 1"', b'"object_repr":"thing 2"'),  # the scalar part after the context
        (b'+00:00"}', b'+00:01"}'),  # the last byte but one
    ],
    ids=["head", "changes", "not-json", "tail", "timestamp"],
)
def test_a_one_byte_edit_of_the_stored_bytes_is_a_hash_mismatch_at_that_event(old, new):
    events = [_append(i) for i in range(3)]
    stored = bytes(events[1].canonical)
    assert stored.count(old) == 1 and len(old) == len(new)
    _tamper("UPDATE audits_auditevent SET canonical = %s WHERE seq = %s", [stored.replace(old, new), events[1].seq])
    result, _, fell_back = _verify()
    assert not result.ok and result.first_bad_seq == events[1].seq and "hash mismatch" in result.reason, result
    assert result.length == events[0].seq and result.head_hash == events[0].hash
    assert not fell_back


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'"object_repr":"thing 1"', b'"object_repr":"thing 9"', "object_repr column differs"),
        (b'"actor_system":"tests"', b'"actor_system":"nobody"', "actor_system column differs"),
        (b'"ratio":[null,0.1]', b'"ratio":[null,0.2]', "changes column differs"),
        (b',"context":', b',"extra":1,"context":', "do not hold the event's fields"),
        (b',"context":', b',"action":"review.approve","context":', "action column differs"),
        (b',"object_id":"1"', b',"object_id":1', "object_id column differs"),
    ],
    ids=["head-text", "head-actor", "changes", "extra-field", "repeated-field", "object-id-type"],
)
def test_rewritten_bytes_that_rehash_are_checked_against_the_columns(old, new, reason):
    """Bytes rewritten and the chain re-hashed (what the signed checkpoints catch) still disagree with the columns."""
    events = [_append(i) for i in range(4)]
    stored = bytes(events[1].canonical)
    assert stored.count(old) == 1
    _rewrite(events[1].seq, stored.replace(old, new))
    fast = verify_chain()  # re-hashed, so only the exact check of the unsigned tail can tell
    assert not fast.ok and fast.first_bad_seq == events[1].seq and reason in fast.reason, fast
    result, _, fell_back = _verify(columns=True)
    assert not result.ok and result.first_bad_seq == events[1].seq and reason in result.reason, result
    assert not fell_back


def test_rehashed_bytes_that_are_not_json_are_named_by_the_slow_walk():
    events = [_append(i) for i in range(3)]
    stored = bytes(events[1].canonical)
    _rewrite(events[1].seq, stored.replace(b',"context":{', b',"context":{{'))
    result, _, fell_back = _verify(columns=True)
    assert not result.ok and result.first_bad_seq == events[1].seq and "not JSON" in result.reason, result
    assert fell_back == (connection.vendor == "postgresql")


def test_the_first_of_several_forgeries_is_named():
    events = [_append(i) for i in range(6)]
    _tamper("UPDATE audits_auditevent SET canonical = %s WHERE seq = %s", [b"{}", events[4].seq])
    _tamper("UPDATE audits_auditevent SET object_repr = %s WHERE seq = %s", ["forged", events[3].seq])
    _tamper("UPDATE audits_auditevent SET prev_hash = %s WHERE seq = %s", ["0" * 64, events[5].seq])
    result, _, _ = _verify(columns=True)
    assert not result.ok and result.first_bad_seq == events[3].seq and "object_repr column" in result.reason
    assert result.length == events[2].seq and result.head_hash == events[2].hash
    result, _, _ = _verify()  # the column edit changes nothing shown: the first forgery of what was hashed
    assert not result.ok and result.first_bad_seq == events[4].seq and "hash mismatch" in result.reason
    assert result.length == events[3].seq and result.head_hash == events[3].hash


def test_a_sound_chain_reports_its_length_and_newest_hash():
    assert verify_chain().ok and verify_chain().length == 0
    events = [_append(i) for i in range(5)]
    result, one_by_one, fell_back = _verify()
    assert result.ok and result.length == events[-1].seq and result.head_hash == events[-1].hash
    assert one_by_one == [] and not fell_back


@postgres_only
def test_a_row_inserted_out_of_place_fails_at_once_without_returning_every_later_row(monkeypatch):
    """INSERT is granted to the app; a row at seq 0 puts every later row out of place. The links' query stops early."""
    from audits import verify_postgres

    events = [_append(i) for i in range(40)]
    with connection.cursor() as cursor:  # INSERT needs no trigger disabled
        cursor.execute(
            "INSERT INTO audits_auditevent (seq, timestamp, actor_id, actor_username, actor_system, action,"
            " object_type, object_id, object_repr, changes, context, prev_hash, hash, canonical)"
            " SELECT 0, timestamp, actor_id, actor_username, actor_system, action, object_type, object_id,"
            " object_repr, changes, context, prev_hash, repeat('0', 64), canonical"
            " FROM audits_auditevent WHERE seq = %s",
            [events[0].seq],
        )
    returned: list[int] = []
    chain_rows = verify_postgres._chain_rows

    def counted(cursor, params):
        rows = chain_rows(cursor, params)
        returned.append(len(rows))
        return rows

    monkeypatch.setattr(verify_postgres, "_chain_rows", counted)
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 1 and "gap: expected sequence 1, found 0" in result.reason
    assert returned and max(returned) <= 3, returned  # the row out of place (and the newest), not all 41
