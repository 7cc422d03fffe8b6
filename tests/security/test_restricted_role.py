"""The app runs under a PostgreSQL role that cannot UPDATE, DELETE or TRUNCATE the audit tables.

``GRANTS`` is the SQL the README gives for production; here it is applied to
the test database for a fresh role, and the app is driven under that role.
"""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

GRANTS = """
GRANT CONNECT ON DATABASE {database} TO {app};
GRANT USAGE ON SCHEMA public TO {app};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app};
REVOKE UPDATE, DELETE, TRUNCATE ON audits_auditevent, audits_checkpoint FROM {app};
"""

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
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")
        cursor.execute(GRANTS.format(database=database, app=role))
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
