"""The chain: appends, verification, tampering, truncation, append-only rules."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from audits.canonical import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, chain_hash
from audits.models import AppendOnlyError, AuditEvent, Checkpoint
from audits.selectors import verify_chain
from audits.services import AuditOutsideTransaction, audit_record, checkpoint_create
from audits.signing import SignerRefused
from audits.tests.factories import record_events

pytestmark = pytest.mark.django_db


def _tamper(sql: str, params: list) -> None:
    """Change stored rows as an attacker with database access would, past the trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audits_checkpoint DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent ENABLE ALWAYS TRIGGER audits_auditevent_no_update_delete")
            cursor.execute("ALTER TABLE audits_checkpoint ENABLE ALWAYS TRIGGER audits_checkpoint_no_update_delete")


def test_events_chain_from_genesis(engineer):
    events = record_events(3, actor=engineer)
    assert [e.seq for e in AuditEvent.objects.filter(action="test.event")] == [e.seq for e in events]
    first = AuditEvent.objects.order_by("seq").first()
    assert first.prev_hash == GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        assert event.hash == chain_hash(event.prev_hash, event.hashed_values())
        assert bytes(event.canonical) == canonical_bytes(event.hashed_values())
    result = verify_chain()
    assert result.ok and result.first_bad_seq is None
    assert result.length == AuditEvent.objects.count()
    assert result.head_hash == AuditEvent.objects.order_by("-seq").first().hash


def test_event_records_actor_and_context(engineer):
    from audits.context import bind_context

    with bind_context(request_id="req-1", ip="10.0.0.9"), transaction.atomic():
        event = audit_record(action="x.do", actor=engineer, object_type="t", object_id=7, changes={"a": [0, 1]})
    event.refresh_from_db()
    assert event.actor_username == "erin" and event.actor_id == engineer.pk
    assert event.context["request_id"] == "req-1" and event.context["ip"] == "10.0.0.9"


@pytest.mark.django_db(transaction=True)
def test_record_refuses_outside_a_transaction():
    with pytest.raises(AuditOutsideTransaction):
        audit_record(action="x.y", system="tests")


def test_exception_after_the_audit_insert_leaves_nothing(engineer):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="x.y", actor=engineer)
        raise RuntimeError("boom after the insert")
    assert AuditEvent.objects.count() == before
    assert verify_chain().ok


def test_model_refuses_change_and_delete(engineer):
    (event,) = record_events(1)
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=event.seq).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    cp = checkpoint_create()
    with pytest.raises(AppendOnlyError):
        cp.delete()


# Columns that only find and show an event: the hashed bytes hold what they say.
EDITED_COLUMNS = [
    ("timestamp", "2001-01-01 00:00:00+00:00"),
    ("actor_id", 999999),
    ("actor_username", "mallory"),
    ("actor_system", "forged"),
    ("action", "review.approve"),
    ("object_type", "registry.deployment"),
    ("object_id", "42"),
    ("object_repr", "something else"),
    ("changes", '{"value": [0, 0]}'),
    ("context", '{"ip": "6.6.6.6"}'),
]
# Columns the chain itself is made of.
EDITED_LINKS = [("prev_hash", "0" * 64), ("hash", "f" * 64)]


@pytest.mark.parametrize(("column", "value"), EDITED_LINKS, ids=[c for c, _ in EDITED_LINKS])
def test_editing_a_hash_or_a_link_fails_verification_at_that_event(column, value):
    events = record_events(5)
    target = events[2].seq
    _tamper(f"UPDATE audits_auditevent SET {column} = %s WHERE seq = %s", [value, target])
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == target, result
    with pytest.raises(CommandError, match=f"sequence {target}"):
        call_command("verify_audit_trail")


@pytest.mark.parametrize(("column", "value"), EDITED_COLUMNS, ids=[c for c, _ in EDITED_COLUMNS])
def test_an_edited_column_changes_nothing_anyone_reads_and_the_column_check_names_it(column, value, engineer):
    """Pages, the API and reports show the hashed bytes; only a filter would see the edit, and --columns names it.

    The event is under a signed checkpoint (the signer checked it exactly when it signed); an edit of an event
    after the newest checkpoint is named by the default verification too (the next test).
    """
    events = record_events(5, actor=engineer)
    target = events[2].seq
    checkpoint_create()
    recorded = AuditEvent.objects.get(seq=target)
    if connection.vendor == "sqlite" and column == "timestamp":
        value = "2001-01-01 00:00:00"
    _tamper(f"UPDATE audits_auditevent SET {column} = %s WHERE seq = %s", [value, target])

    shown = AuditEvent.objects.get(seq=target)
    assert shown.altered_columns == (column,)
    assert {name: getattr(shown, name) for name in HASHED_FIELDS} == {
        name: getattr(recorded, name) for name in HASHED_FIELDS
    }
    assert shown.actor == engineer  # the user recorded, not the one the edited actor_id column names
    assert recorded.altered_columns == ()

    assert verify_chain().ok  # what was hashed is intact
    result = verify_chain(columns=True)
    assert not result.ok and result.first_bad_seq == target and f"the {column} column differs" in result.reason
    with pytest.raises(CommandError, match=f"sequence {target}: the {column} column differs"):
        call_command("verify_audit_trail", "--columns")


@pytest.mark.parametrize(("column", "value"), EDITED_COLUMNS, ids=[c for c, _ in EDITED_COLUMNS])
def test_an_edited_column_after_the_newest_checkpoint_fails_the_default_verification(column, value, engineer):
    """What the signer has not signed yet is checked exactly, so it never signs an edited event."""
    events = record_events(4, actor=engineer)
    checkpoint_create()
    events += record_events(3, actor=engineer)
    target = events[5].seq
    if connection.vendor == "sqlite" and column == "timestamp":
        value = "2001-01-01 00:00:00"
    _tamper(f"UPDATE audits_auditevent SET {column} = %s WHERE seq = %s", [value, target])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == target and f"the {column} column differs" in result.reason
    assert result.length == target - 1 and result.head_hash == events[4].hash
    with pytest.raises(SignerRefused, match=f"sequence {target}"):
        checkpoint_create()


def test_editing_the_sequence_number_is_a_gap():
    events = record_events(4)
    _tamper("UPDATE audits_auditevent SET seq = %s WHERE seq = %s", [events[-1].seq + 10, events[1].seq])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[1].seq and "gap" in result.reason


def test_deleting_the_newest_events_after_a_checkpoint_is_detected():
    events = record_events(6)
    checkpoint_create()
    newest = events[-1].seq
    _tamper("DELETE FROM audits_auditevent WHERE seq > %s", [newest - 2])
    _tamper("UPDATE audits_chainhead SET seq = %s, hash = %s WHERE id = 1", [newest - 2, events[-3].hash])
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == newest - 1
    assert "missing tail" in result.reason


def test_deleting_the_tail_without_touching_the_head_is_detected():
    events = record_events(3)
    _tamper("DELETE FROM audits_auditevent WHERE seq = %s", [events[-1].seq])
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[-1].seq


def test_a_forged_checkpoint_signature_is_detected():
    record_events(2)
    cp = checkpoint_create()
    _tamper("UPDATE audits_checkpoint SET signature = %s WHERE id = %s", ["0" * 64, cp.pk])
    result = verify_chain()
    assert not result.ok and "signature" in result.reason


def test_verify_command_succeeds_on_a_sound_chain(capsys):
    record_events(3)
    checkpoint_create()
    call_command("verify_audit_trail")
    assert "audit trail OK" in capsys.readouterr().out


def test_checkpoint_command_and_task_sign_the_head():
    from audits.tasks import checkpoint_audit_trail

    events = record_events(2)
    call_command("checkpoint_audit_trail")
    assert checkpoint_audit_trail() == events[-1].seq  # the head is signed already: the task adds nothing
    assert list(Checkpoint.objects.values_list("seq", flat=True)) == [events[-1].seq]


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_or_gap_the_chain():
    """8 writers x 500 events, each append in its own transaction."""
    writers, per_writer = 8, 500
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    audit_record(action="load.append", system=f"writer-{n}", object_type="load", object_id=i)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditEvent.objects.filter(action="load.append").count() == writers * per_writer
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes)), "two events chain from the same predecessor: a fork"
    per_writer_counts = {
        f"writer-{n}": AuditEvent.objects.filter(actor_system=f"writer-{n}").count() for n in range(writers)
    }
    assert set(per_writer_counts.values()) == {per_writer}
    assert verify_chain().ok
