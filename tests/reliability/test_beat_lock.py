"""Only one beat runs the schedule even if two are started.

Real ``celery beat`` processes run against this session's test database and
broker, with a one-second schedule that sends to a queue nobody consumes; each
beat's log says which due tasks it sent, and the broker queue holds exactly
the messages they sent.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from fmgov.celery import app
from fmgov.core.testing import worker as worker_util
from fmgov.core.testing.worker import wait_for

LOCKED = "fmgov.core.beat.LockedDatabaseScheduler"
PLAIN = "django_celery_beat.schedulers:DatabaseScheduler"


class Beat:
    def __init__(self, scheduler: str, tag: str):
        self.dir = Path(tempfile.mkdtemp(prefix=f"beat-{tag}-"))
        self.log = self.dir / "beat.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fmgov.settings.test",
            "DATABASE_URL": worker_util.test_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "FMGOV_BEAT_LOCK_RETRY_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "-A", "fmgov", "beat",
                    "-S", scheduler, "-l", "info", "--max-interval", "1",
                    "--pidfile", str(self.dir / "beat.pid"), "-s", str(self.dir / "schedule"),
                ],
                cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def sent(self, task_name: str) -> int:
        return len(re.findall(rf"Sending due task {re.escape(task_name)} ", self.output()))

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def every_second():
    """A periodic task due every second, routed to a queue no worker consumes."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    queue = f"fmgov-test-beat-{uuid.uuid4().hex[:8]}"
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(
        name=f"beat-lock-probe-{uuid.uuid4().hex[:8]}",
        task="audits.tasks.checkpoint_audit_trail",
        interval=interval,
        queue=queue,
    )
    yield task.name, queue
    _purge(queue)


def _purge(queue: str) -> int:
    with app.connection_for_write() as conn:
        try:
            return conn.default_channel.queue_purge(queue) or 0
        except Exception:
            return 0


@pytest.fixture
def beats():
    started: list[Beat] = []

    def _start(scheduler: str, tag: str) -> Beat:
        beat = Beat(scheduler, tag)
        started.append(beat)
        return beat

    yield _start
    for beat in started:
        beat.stop()


def _both_running(a: Beat, b: Beat, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert a.alive(), f"beat A exited:\n{a.output()}"
        assert b.alive(), f"beat B exited:\n{b.output()}"
        time.sleep(0.25)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_locked_beats_only_one_sends_and_the_other_takes_over(every_second, beats):
    name, queue = every_second
    a = beats(LOCKED, "a")
    wait_for(lambda: a.sent(name) >= 1, timeout=60, message=f"beat A to send {name}:\n{a.output()}")
    b = beats(LOCKED, "b")
    wait_for(lambda: "staying idle" in b.output(), timeout=60, message=f"beat B to go idle:\n{b.output()}")
    a_before = a.sent(name)
    _both_running(a, b, 6)

    assert b.sent(name) == 0, f"the second beat sent the schedule too:\n{b.output()}"
    assert a.sent(name) >= a_before + 3, f"the leader stopped sending:\n{a.output()}"
    # What the logs claim is what reached the broker: one message per send, no duplicates.
    assert _purge(queue) == a.sent(name) + b.sent(name)

    # The leader dies without cleaning up; the idle beat takes over.
    a.kill()
    wait_for(lambda: b.sent(name) >= 2, timeout=30, message=f"beat B to take over:\n{b.output()}")
    assert "beat lock acquired" in b.output()
    # It resumed from the saved schedule instead of replaying a backlog in a burst.
    time.sleep(3)
    assert b.sent(name) <= 3 + 5, f"the new leader replayed too many runs:\n{b.output()}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_plain_database_schedulers_both_send(every_second, beats):
    """The failure the lock prevents, shown with django-celery-beat's own scheduler."""
    name, queue = every_second
    a, b = beats(PLAIN, "plain-a"), beats(PLAIN, "plain-b")
    wait_for(lambda: a.sent(name) >= 2 and b.sent(name) >= 2, timeout=60, message="both plain beats to send")
    assert _purge(queue) >= 4


def test_configured_scheduler_is_the_locked_one():
    """Every ``celery beat`` started without -S (make run, docker compose) must use the lock."""
    assert settings.CELERY_BEAT_SCHEDULER == LOCKED, (
        f"CELERY_BEAT_SCHEDULER is {settings.CELERY_BEAT_SCHEDULER!r}: two beats would both run the schedule. "
        f'Set CELERY_BEAT_SCHEDULER = "{LOCKED}" in fmgov/settings/base.py.'
    )
    base = Path(settings.BASE_DIR)
    for path in (base / "docker-compose.yml", base / "fmgov/core/devserver.py"):
        text = path.read_text()
        for line in text.splitlines():
            if "beat" in line and re.search(r"(-S|--scheduler)\b", line):
                assert LOCKED in line, f"{path.name} overrides the scheduler: {line.strip()}"
