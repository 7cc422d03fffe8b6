"""Fixtures shared by every app's tests: users in each role, API clients, a real Celery worker."""

import time

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

# Property tests in CI are reproducible: the same fifty examples every run.
hypothesis_settings.register_profile("ci", derandomize=True, max_examples=50, deadline=None)
hypothesis_settings.load_profile("ci")


def _patch_postgres_flush() -> None:
    """Let test teardown empty the append-only audit tables on PostgreSQL.

    The triggers refuse TRUNCATE, which is what Django's flush between
    transactional tests issues. Only here, in tests, are they switched off for
    the flush and switched back on (ENABLE ALWAYS) in the same transaction.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations, "_fmgov_patched", False):
        return
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        audit_tables = [t for t in ("audits_auditevent", "audits_checkpoint", "audits_checkpointanchor") if t in tables]
        if not statements or not audit_tables:
            return statements
        before = [f"ALTER TABLE {t} DISABLE TRIGGER USER;" for t in audit_tables]
        after = []
        for t in audit_tables:
            after += [
                f"ALTER TABLE {t} ENABLE ALWAYS TRIGGER {t}_no_update_delete;",
                f"ALTER TABLE {t} ENABLE ALWAYS TRIGGER {t}_no_truncate;",
            ]
        return before + statements + after

    original_execute = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        """Retry a flush PostgreSQL chose as a deadlock victim.

        The session's real Celery worker may still be finishing a task the test
        queued (a notification, a webhook retry) when teardown truncates every
        table; TRUNCATE's exclusive locks can then deadlock with the task's row
        locks. The flush runs in one transaction, so a retry starts clean once
        the task's transaction has ended.
        """
        from django.db import OperationalError

        for attempt in range(6):
            try:
                return original_execute(self, sql_list)
            except OperationalError as exc:
                if "deadlock detected" not in str(exc) or attempt == 5:
                    raise
                time.sleep(0.5 * (attempt + 1))

    DatabaseOperations.sql_flush = sql_flush
    DatabaseOperations.execute_sql_flush = execute_sql_flush
    DatabaseOperations._fmgov_patched = True


def pytest_configure(config):
    _patch_postgres_flush()


@pytest.fixture(autouse=True)
def _audit_signer_starts_afresh():
    """Each test's database starts a new chain, so the checkpoint signer forgets the head it signed last."""
    from pathlib import Path

    from django.conf import settings

    if settings.AUDIT_SIGNING_KEY_FILE:
        Path(settings.AUDIT_SIGNING_KEY_FILE + ".state").unlink(missing_ok=True)


@pytest.fixture
def make_user(db):
    """make_user("alice", "engineer", "reviewer") -> a user holding those roles."""
    from fmgov.accounts.services import user_create

    def _make(username: str, *roles: str, password: str = "correct-horse-battery-staple", email: str = ""):
        return user_create(
            username=username, roles=list(roles), password=password, email=email or f"{username}@example.org"
        )

    return _make


@pytest.fixture
def engineer(make_user):
    return make_user("erin", "engineer")


@pytest.fixture
def other_engineer(make_user):
    return make_user("eve", "engineer")


@pytest.fixture
def reviewer(make_user):
    return make_user("rita", "reviewer")


@pytest.fixture
def other_reviewer(make_user):
    return make_user("ravi", "reviewer")


@pytest.fixture
def auditor(make_user):
    return make_user("aude", "auditor")


@pytest.fixture
def admin_user(make_user):
    user = make_user("ada", "admin")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated with a fresh API token of that user."""
    from fmgov.accounts.services import token_create

    def _client(user) -> APIClient:
        _, key = token_create(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return _client


@pytest.fixture
def computed_reads(settings):
    """API reads computed every time: for tests that count what computing an answer costs, not a cache hit."""
    settings.API_READ_CACHE_SECONDS = 0


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """One real worker process for the session, on every queue. Use with transactional tests."""
    from fmgov.celery import app
    from fmgov.core.testing.worker import start_worker

    # Tests that ran before this fixture (transactional ones, with no worker listening)
    # left their tasks on the broker; a new worker would first work through all of them.
    app.control.purge()
    with django_db_blocker.unblock():
        # Several pool processes: a task an earlier test left running (a run against a server that test
        # has since stopped, retrying with back-off) must not hold up the next test's task.
        worker = start_worker(concurrency=4)
    yield worker
    worker.stop()
