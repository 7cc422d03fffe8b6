"""Verification's concurrent walk on PostgreSQL: other connections, in the verifying transaction's snapshot.

verify_chain exports its REPEATABLE READ snapshot; two threads with a
connection of their own import it, one walks the links, the other checks the
unsigned tail, while the first connection re-hashes every row
(audits/verify_postgres.py). These tests run outside a test transaction, as
verification does in production (no other connection sees uncommitted rows,
so a transaction that wrote walks alone). They show the path is taken, that it
names each forgery exactly as the sequential walk does, that appends committed
meanwhile are no false alarm, and that a failure there falls back to the
sequential walk.
"""

import threading

import pytest
from django.db import connection, transaction

from audits import selectors, verify_postgres
from audits.models import AuditEvent
from audits.selectors import CONCURRENT_LINKS, CONCURRENT_TAIL, verify_chain
from audits.services import checkpoint_create
from audits.tests.test_chain import _tamper
from audits.tests.test_verify_postgres import _append, _rewrite

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's exported snapshots"),
]


def _chain(events: int = 8, signed_up_to: int = 5) -> list[AuditEvent]:
    """``events`` events, the first ``signed_up_to`` under a signed checkpoint, the rest its unsigned tail."""
    made = [_append(i) for i in range(signed_up_to)]
    checkpoint_create()
    return made + [_append(i) for i in range(signed_up_to, events)]


def _both(monkeypatch):
    """verify_chain on the concurrent path, then on the sequential one (no snapshot to share), in one state."""
    concurrent = verify_chain()
    with monkeypatch.context() as patched:
        patched.setattr(verify_postgres, "export_snapshot", lambda: None)
        sequential = verify_chain()
    assert CONCURRENT_LINKS in concurrent.notes and CONCURRENT_LINKS not in sequential.notes
    return concurrent, sequential


def test_a_sound_chain_is_walked_on_two_connections(monkeypatch):
    events = _chain()
    concurrent, sequential = _both(monkeypatch)
    assert concurrent.ok and concurrent.length == events[-1].seq and concurrent.head_hash == events[-1].hash
    assert CONCURRENT_TAIL in concurrent.notes, concurrent.notes
    assert concurrent.as_dict() == sequential.as_dict()
    assert verify_chain(columns=True).notes == [CONCURRENT_LINKS]  # the daily exact check too


def _unlink(events):
    _tamper("UPDATE audits_auditevent SET prev_hash = %s WHERE seq = %s", ["0" * 64, events[3].seq])
    return events[3].seq, "previous hash does not match"


def _gap(events):
    _tamper("DELETE FROM audits_auditevent WHERE seq = %s", [events[2].seq])
    return events[2].seq, f"gap: expected sequence {events[2].seq}, found {events[3].seq}"


def _byte_edit(events):
    stored = bytes(events[1].canonical)
    _tamper(
        "UPDATE audits_auditevent SET canonical = %s WHERE seq = %s",
        [stored.replace(b'"thing 1"', b'"thinG 1"'), events[1].seq],
    )
    return events[1].seq, "hash mismatch"


def _rehashed_signed(events):
    _rewrite(events[2].seq, bytes(events[2].canonical).replace(b'"thing 2"', b'"thing 9"'))
    return events[4].seq, "names a different hash"  # the signed checkpoint at events[4]


def _rehashed_tail(events):
    _rewrite(events[6].seq, bytes(events[6].canonical).replace(b'"thing 6"', b'"thing 9"'))
    return events[6].seq, "object_repr column differs"  # the exact check of the unsigned tail


def _cut_tail(events):
    _tamper("DELETE FROM audits_auditevent WHERE seq >= %s", [events[6].seq])
    return events[6].seq, "missing tail: the chain head records"


@pytest.mark.parametrize(
    "forge",
    [_unlink, _gap, _byte_edit, _rehashed_signed, _rehashed_tail, _cut_tail],
    ids=["broken-link", "gap", "byte-edit", "rehashed-under-checkpoint", "rehashed-tail", "cut-tail"],
)
def test_each_forgery_is_named_as_the_sequential_walk_names_it(forge, monkeypatch):
    bad_seq, reason = forge(_chain())
    concurrent, sequential = _both(monkeypatch)
    assert not concurrent.ok and concurrent.first_bad_seq == bad_seq and reason in concurrent.reason, concurrent
    assert concurrent.as_dict() == sequential.as_dict()


def _append_elsewhere() -> None:
    """An append committed by another connection (a thread of its own)."""
    errors: list[BaseException] = []

    def append() -> None:
        try:
            _append(99, action="test.meanwhile")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=append)
    thread.start()
    thread.join()
    assert not errors, errors


def test_an_append_committed_while_the_second_connection_walks_is_not_seen(monkeypatch):
    """The second connection sees the snapshot it imported, not the rows committed since: no false alarm."""
    events = _chain()
    walk_links = verify_postgres._chain_rows

    def append_first(*args, **kwargs):
        _append_elsewhere()  # after the second connection imported the snapshot, before it reads a row
        return walk_links(*args, **kwargs)

    monkeypatch.setattr(verify_postgres, "_chain_rows", append_first)
    result = verify_chain()
    assert result.ok and result.length == events[-1].seq and result.head_hash == events[-1].hash, result
    assert CONCURRENT_LINKS in result.notes and CONCURRENT_TAIL in result.notes
    monkeypatch.undo()
    after = verify_chain()
    assert after.ok and after.length == events[-1].seq + 1 and CONCURRENT_LINKS in after.notes


def test_appends_committed_during_repeated_verifications_are_no_false_alarm():
    _chain()
    done, errors, results = threading.Event(), [], []

    def write() -> None:
        try:
            for i in range(400):
                if done.is_set():
                    break
                _append(i, action="test.writer")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        for _ in range(8):
            results.append(verify_chain())
    finally:
        done.set()
        writer.join()
    assert not errors, errors
    assert all(r.ok and CONCURRENT_LINKS in r.notes for r in results), [r for r in results if not r.ok][:1]
    assert len({r.length for r in results}) > 1, "the verifications overlapped the appends"


@pytest.mark.parametrize("fails", ["snapshot", "tail"])
def test_a_failure_on_the_second_connection_falls_back_to_the_sequential_walk(fails, monkeypatch):
    events = _chain()
    _rewrite(events[6].seq, bytes(events[6].canonical).replace(b'"thing 6"', b'"thing 9"'))
    if fails == "snapshot":  # well-formed, but no transaction exported it: the import fails
        monkeypatch.setattr(verify_postgres, "export_snapshot", lambda: verify_postgres.Snapshot("3-1B-1", ""))
    else:

        def broken(after):
            raise RuntimeError("the tail check on another connection failed")

        monkeypatch.setattr(selectors, "_tail_ahead", broken)
    result = verify_chain()
    assert (CONCURRENT_LINKS in result.notes) == (fails == "tail") and CONCURRENT_TAIL not in result.notes
    assert not result.ok and result.first_bad_seq == events[6].seq and "object_repr column differs" in result.reason


def test_while_one_verification_walks_on_other_connections_another_walks_alone():
    events = _chain()
    with verify_postgres._ONE_AT_A_TIME:
        result = verify_chain()
    assert result.ok and result.length == events[-1].seq and result.notes == []
    assert CONCURRENT_LINKS in verify_chain().notes


def test_only_a_repeatable_read_transaction_that_wrote_nothing_outside_a_savepoint_exports_its_snapshot():
    _append(0)
    assert verify_postgres.export_snapshot() is None  # no transaction at all
    with transaction.atomic():
        assert verify_postgres.export_snapshot() is None  # READ COMMITTED: every query has its own snapshot
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        snapshot = verify_postgres.export_snapshot()
        assert snapshot and verify_postgres._SNAPSHOT_ID.fullmatch(snapshot.id) and snapshot.seen
        with transaction.atomic():
            assert verify_postgres.export_snapshot() is None  # a savepoint: PostgreSQL would refuse, aborting it
        _append(1)
        assert verify_postgres.export_snapshot() is None  # it wrote: another connection cannot see those rows
        assert AuditEvent.objects.count() == 2  # and the transaction is still sound
