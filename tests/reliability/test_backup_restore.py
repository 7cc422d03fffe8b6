"""A pg_dump / pg_restore round trip of a populated database keeps the audit trail verifiable."""

import io
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection, transaction

from audits.models import AuditEvent, Checkpoint
from audits.services import audit_record, checkpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump / pg_restore need PostgreSQL")


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = {**os.environ, "PGHOST": db.get("HOST") or "127.0.0.1", "PGPORT": str(db.get("PORT") or 5432)}
    env["PGUSER"] = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), env=_pg_env(), capture_output=True, text=True, timeout=300, **kwargs)


def _database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}/{name}"


def _manage(database: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "fmgov.settings.test", "DATABASE_URL": _database_url(database)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _psql(database: str, sql: str) -> subprocess.CompletedProcess:
    return _run("psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", database, "-c", sql)


def _populate(make_user):
    from fmgov.accounts import demo as accounts_demo
    from fmgov.registry import demo as registry_demo

    out = io.StringIO()
    accounts_demo.seed(out)
    registry_demo.seed(out)
    make_user("backup-engineer", "engineer")
    for i in range(50):
        with transaction.atomic():
            audit_record(
                action="backup.test",
                object_type="test",
                object_id=str(i),
                changes={"text": ["", f"caf\u00e9 \u202e {i} \U0001f916"], "n": [i, i + 1]},
            )
        if i % 20 == 0:
            checkpoint_create()
    checkpoint_create()


@pytest.mark.django_db(transaction=True)
def test_dump_and_restore_keeps_the_audit_trail_verifiable(postgres_only, make_user, tmp_path):
    _populate(make_user)
    events, checkpoints = AuditEvent.objects.count(), Checkpoint.objects.count()
    assert events > 50 and checkpoints >= 3
    source = connection.settings_dict["NAME"]
    original = _manage(source, "verify_audit_trail")
    assert original.returncode == 0, original.stderr

    dump = tmp_path / "fmgov.dump"
    result = _run("pg_dump", "--format=custom", "--no-owner", "--file", str(dump), "-d", source)
    assert result.returncode == 0, result.stderr
    restored = f"{source}_restored_{uuid.uuid4().hex[:6]}"
    result = _run("createdb", restored)
    assert result.returncode == 0, result.stderr
    try:
        result = _run("pg_restore", "--no-owner", "--exit-on-error", "-d", restored, str(dump))
        assert result.returncode == 0, result.stderr

        verified = _manage(restored, "verify_audit_trail")
        assert verified.returncode == 0, verified.stderr
        assert f"{events} events" in verified.stdout
        assert f"{checkpoints} checkpoints" in verified.stdout
        assert original.stdout.split("head ")[-1] == verified.stdout.split("head ")[-1]

        # The append-only triggers came back, still ENABLE ALWAYS.
        listed = _psql(
            restored,
            "SELECT tgname || '=' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN ('audits_auditevent'::regclass, 'audits_checkpoint'::regclass) ORDER BY 1",
        )
        assert listed.returncode == 0, listed.stderr
        triggers = listed.stdout.split()
        assert triggers == [
            "audits_auditevent_no_truncate=A",
            "audits_auditevent_no_update_delete=A",
            "audits_checkpoint_no_truncate=A",
            "audits_checkpoint_no_update_delete=A",
        ]
        refused = _psql(restored, "SET session_replication_role = replica; UPDATE audits_auditevent SET action = 'x'")
        assert refused.returncode != 0
        assert "append-only" in refused.stderr or "not allowed" in refused.stderr.lower(), refused.stderr

        # The check can fail: forge one signed event in the restored copy (as the table owner, triggers off).
        # Its filter column first: what is shown is still the hashed bytes, and the exact check names it.
        forged = _psql(
            restored,
            "BEGIN; ALTER TABLE audits_auditevent DISABLE TRIGGER USER; "
            "UPDATE audits_auditevent SET object_repr = 'forged' WHERE seq = 10; "
            "ALTER TABLE audits_auditevent ENABLE ALWAYS TRIGGER audits_auditevent_no_update_delete; COMMIT;",
        )
        assert forged.returncode == 0, forged.stderr
        broken = _manage(restored, "verify_audit_trail", "--columns")
        assert broken.returncode != 0
        assert "sequence 10: the object_repr column differs" in broken.stderr
        # Then its hashed bytes: the default verification names it.
        forged = _psql(
            restored,
            "BEGIN; ALTER TABLE audits_auditevent DISABLE TRIGGER USER; "
            "UPDATE audits_auditevent SET canonical = canonical || ' '::bytea WHERE seq = 10; "
            "ALTER TABLE audits_auditevent ENABLE ALWAYS TRIGGER audits_auditevent_no_update_delete; COMMIT;",
        )
        assert forged.returncode == 0, forged.stderr
        broken = _manage(restored, "verify_audit_trail")
        assert broken.returncode != 0
        assert "sequence 10: hash mismatch" in broken.stderr
    finally:
        _run("dropdb", "--if-exists", "--force", restored)
