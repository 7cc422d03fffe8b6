"""One snapshot (issue 14): verification and export while others append never raise a false alarm,
and migration 0003 fills the stored bytes honestly."""

import hashlib
import importlib
import io
import json
import threading
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection, transaction

from audits.canonical import GENESIS_HASH, HASHED_FIELDS, canonical_bytes
from audits.export import export_trail
from audits.models import AuditEvent
from audits.selectors import verify_chain
from audits.services import audit_record
from audits.tests.test_chain import _tamper

fill_migration = importlib.import_module("audits.migrations.0003_event_canonical_bytes")


def _check_export(data: bytes) -> int:
    """The export's own consistency: an unbroken chain, the trailer's digest and counts; returns the events."""
    lines = data.split(b"\n")
    assert lines.pop() == b""
    digest, prev, count = hashlib.sha256(), GENESIS_HASH, 0
    for raw in lines[:-1]:
        digest.update(raw + b"\n")
        obj = json.loads(raw)
        if obj["type"] == "event":
            event = {name: obj[name] for name in HASHED_FIELDS}
            assert event["seq"] == count + 1 and event["prev_hash"] == prev
            prev = hashlib.sha256(prev.encode("ascii") + canonical_bytes(event)).hexdigest()
            assert prev == obj["hash"]
            count += 1
        elif obj["type"] == "checkpoint":
            assert obj["seq"] <= count, "a checkpoint beyond the exported chain"
    trailer = json.loads(lines[-1])
    assert trailer["events"] == count and trailer["sha256"] == digest.hexdigest()
    return count


@pytest.mark.django_db(transaction=True)
def test_four_writers_while_verify_and_export_run_give_no_false_alarm():
    writers, per_writer, cap = 4, 150, 3000
    done = threading.Event()
    errors: list[BaseException] = []
    checks: list[tuple[str, int]] = []
    written = [0] * writers

    def write(n: int) -> None:
        # Each writer appends at least ``per_writer`` events and goes on until the checker has finished two
        # rounds, so checks overlap the appends however the threads are scheduled (SQLite serialises writers).
        try:
            for i in range(cap):
                if i >= per_writer and len(checks) >= 6:
                    break
                with transaction.atomic():
                    audit_record(action="load.append", system=f"writer-{n}", changes={"x": [i, 3.8e25]})
                written[n] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def check() -> None:
        try:
            while not done.is_set():
                result = verify_chain()
                assert result.ok, result
                buffer = io.BytesIO()
                export_trail(buffer)
                checks.append(("verify", result.length))
                checks.append(("export", _check_export(buffer.getvalue())))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    checker = threading.Thread(target=check)
    checker.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    checker.join()
    assert not errors, errors
    total = sum(written)
    assert AuditEvent.objects.count() == total >= writers * per_writer
    # The checks really overlapped the appends: they saw the chain part-way.
    assert any(0 < length < total for _, length in checks), checks
    assert verify_chain().ok


@pytest.mark.django_db
def test_migration_fills_the_bytes_and_reports_events_that_no_longer_rehash(capsys):
    values = [1.5, 3.8e25, 2.5]
    events = []
    for i, value in enumerate(values):
        with transaction.atomic():
            events.append(audit_record(action="legacy", system="tests", changes={"flop": [i, value]}))
    originals = [bytes(e.canonical) for e in events]
    # As before 0003: no bytes stored, and 3.8e25 read back the way jsonb returns it (on PostgreSQL it already is).
    _tamper("UPDATE audits_auditevent SET canonical = %s", [b""])
    respelled = '{"flop": [1, 38000000000000000000000000]}'
    _tamper("UPDATE audits_auditevent SET changes = %s WHERE seq = %s", [respelled, events[1].seq])

    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=lambda sql, params=None: cursor.execute(sql, params))
        fill_migration.fill_canonical(apps, editor)

    report = capsys.readouterr().out
    assert "1 audit event(s) no longer re-hash" in report and f"sequence {events[1].seq}" in report
    stored = {e.seq: e for e in AuditEvent.objects.order_by("seq")}
    assert bytes(stored[events[0].seq].canonical) == originals[0]
    assert bytes(stored[events[2].seq].canonical) == originals[2]
    middle = stored[events[1].seq]
    assert middle.hash == events[1].hash, "never re-hashed"
    assert b"[1,38000000000000000000000000]" in bytes(middle.canonical), "filled from what reads back"
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == events[1].seq and "hash mismatch" in result.reason
