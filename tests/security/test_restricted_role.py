"""The app runs under a PostgreSQL role that cannot UPDATE, DELETE or TRUNCATE the audit tables.

The grants come from one place, ``audits.db_roles`` (``manage.py db_grants``, which compose's
migrate service runs as the owner role); here they are applied to the test database for a fresh
role, checked table by table, and the app is driven under that role.
"""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

from audits.db_roles import HISTORY_PRIVILEGES, apply_app_role_grants, history_tables

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

APP_PROBE = r"""
import django
django.setup()
from django.db import transaction
from audits.services import audit_record, checkpoint_create
from audits.selectors import verify_chain
with transaction.atomic():
    event = audit_record(action="restricted.append", object_type="test", object_id="1")
checkpoint_create()
result = verify_chain()
print("appended", event.seq, "ok" if result.ok else f"BROKEN {result.first_bad_seq}")
"""


@pytest.fixture
def app_role():
    if connection.vendor != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's")
    role = f"fmgov_app_{uuid.uuid4().hex[:8]}"
    apply_app_role_grants(role)
    yield role
    with connection.cursor() as cursor:
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


def _as_role(role: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{role}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "fmgov.settings.test", "DATABASE_URL": url}


def _psql_as(role: str, sql: str) -> subprocess.CompletedProcess:
    db = connection.settings_dict
    return subprocess.run(
        ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
        + ["-U", role, "-d", db["NAME"], "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
def test_app_role_appends_and_verifies_but_cannot_rewrite_history(app_role):
    result = subprocess.run(
        [sys.executable, "-c", APP_PROBE],
        cwd=settings.BASE_DIR,
        env=_as_role(app_role),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "appended 1 ok" in result.stdout

    for sql in (
        "UPDATE audits_auditevent SET action = 'forged'",
        "DELETE FROM audits_auditevent",
        "TRUNCATE audits_auditevent",
        "UPDATE audits_checkpoint SET seq = 0",
        "DELETE FROM audits_checkpoint",
        "ALTER TABLE audits_auditevent DISABLE TRIGGER USER",
        "SET session_replication_role = replica",
    ):
        refused = _psql_as(app_role, sql)
        assert refused.returncode != 0, f"the app role could run: {sql}"
        assert "permission denied" in refused.stderr or "must be owner" in refused.stderr, refused.stderr

    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_audit_trail"],
        cwd=settings.BASE_DIR,
        env=_as_role(app_role),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stderr


@pytest.mark.django_db(transaction=True)
def test_grants_table_by_table(app_role):
    """Every table is readable and writable by the app, except that history cannot be changed or removed."""
    assert "TRUNCATE" in HISTORY_PRIVILEGES
    history = set(history_tables())
    assert {"audits_auditevent", "audits_checkpoint", "evaluations_runmetric"} <= history
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        assert set(history) <= set(tables)
        for table in tables:
            for privilege in ("SELECT", "INSERT", *HISTORY_PRIVILEGES):
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [app_role, f"public.{table}", privilege])
                held = cursor.fetchone()[0]
                # TRUNCATE is never granted: the app has no use for it on any table.
                expected = privilege in ("SELECT", "INSERT") or (table not in history and privilege != "TRUNCATE")
                assert held is expected, f"{app_role} {'holds' if held else 'lacks'} {privilege} on {table}"
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role]
        )
        assert cursor.fetchone() == (False, False, False, False)


@pytest.mark.django_db(transaction=True)
def test_db_grants_command_is_idempotent_and_sets_the_password(monkeypatch, app_role):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setenv("FMGOV_TEST_APP_DB_PASSWORD", "s3cret-for-the-test")
    out = StringIO()
    call_command("db_grants", app_role, "--apply", "--password-env", "FMGOV_TEST_APP_DB_PASSWORD", stdout=out)
    assert f"granted {app_role}" in out.getvalue()
    printed = StringIO()
    call_command("db_grants", app_role, stdout=printed)
    assert (
        "REVOKE UPDATE, DELETE, TRUNCATE ON" in printed.getvalue() and '"evaluations_runmetric"' in printed.getvalue()
    )
    refused = _psql_as(app_role, "UPDATE evaluations_runmetric SET value = 1")
    assert refused.returncode != 0 and "permission denied" in refused.stderr, refused.stderr
