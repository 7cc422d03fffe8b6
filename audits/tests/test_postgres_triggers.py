"""On PostgreSQL the table itself refuses UPDATE, DELETE and TRUNCATE, even in replica mode."""

import pytest
from django.db import DatabaseError, connection, transaction

from audits.tests.factories import record_events

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the append-only triggers are PostgreSQL's; run with DATABASE_URL=postgres://...")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audits_auditevent SET action = 'forged'",
        "DELETE FROM audits_auditevent",
        "TRUNCATE audits_auditevent",
        "UPDATE audits_checkpoint SET signature = 'x'",
        "DELETE FROM audits_checkpoint",
        "TRUNCATE audits_checkpoint",
        "UPDATE audits_checkpointanchor SET token = 'x'",
        "DELETE FROM audits_checkpointanchor",
        "TRUNCATE audits_checkpointanchor",
    ],
)
@pytest.mark.parametrize("replica", [False, True], ids=["origin", "replica-mode"])
def test_trigger_refuses(statement, replica):
    from django.utils import timezone

    from audits.models import CheckpointAnchor
    from audits.services import checkpoint_create

    record_events(2)
    cp = checkpoint_create()
    CheckpointAnchor.objects.create(checkpoint=cp, kind="witness", target="dir:/x", anchored_at=timezone.now())
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        if replica:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement)


def test_triggers_are_enabled_always():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid IN "
            "('audits_auditevent'::regclass, 'audits_checkpoint'::regclass, 'audits_checkpointanchor'::regclass) "
            "AND NOT tgisinternal"
        )
        rows = dict(cursor.fetchall())
    assert len(rows) == 6
    assert set(rows.values()) == {"A"}, rows
