"""The beat lock itself: exclusive, released on process or session death, and an idle beat sends nothing."""

import time

import pytest
from celery.signals import before_task_publish
from django.db import connection

from fmgov.celery import app
from fmgov.core.beat import FileLock, LockedDatabaseScheduler, PostgresAdvisoryLock, beat_lock_for_database


def test_file_lock_is_exclusive_until_released(tmp_path):
    first, second = FileLock(tmp_path / "beat.lock"), FileLock(tmp_path / "beat.lock")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert second.still_held()
    second.release()


@pytest.mark.django_db(transaction=True)
def test_postgres_lock_is_exclusive_and_a_dead_session_hands_over():
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    first = PostgresAdvisoryLock(connection.settings_dict, name="fmgov.test.beat")
    second = PostgresAdvisoryLock(connection.settings_dict, name="fmgov.test.beat")
    try:
        assert first.acquire()
        assert first.still_held()
        assert not second.acquire()
        # The leader's session dies (network cut, server restart): it notices and the other takes over.
        pid = first.conn.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert not first.still_held()
        assert second.acquire()
        assert second.still_held()
    finally:
        first.release()
        second.release()


@pytest.mark.django_db(transaction=True)
def test_idle_scheduler_sends_nothing_and_takes_over_when_the_lock_frees():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="idle-probe", task="audits.tasks.checkpoint_audit_trail", interval=interval, queue="fmgov-test-idle"
    )
    sent = []

    def _record(sender=None, **kwargs):
        sent.append(sender)

    holder = beat_lock_for_database()
    assert holder.acquire()
    before_task_publish.connect(_record, weak=False)
    scheduler = LockedDatabaseScheduler(app=app)
    try:
        for _ in range(3):
            assert scheduler.tick() == scheduler.lock_retry_seconds
        assert not scheduler.is_leader
        assert sent == []

        holder.release()
        deadline = time.monotonic() + 10
        while "audits.tasks.checkpoint_audit_trail" not in sent and time.monotonic() < deadline:
            time.sleep(max(0.0, min(scheduler.tick(), 0.2)))
        assert scheduler.is_leader
        assert "audits.tasks.checkpoint_audit_trail" in sent
    finally:
        before_task_publish.disconnect(_record)
        scheduler.close()
        holder.release()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge("fmgov-test-idle")
