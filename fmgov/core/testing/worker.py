"""Start a real Celery worker process against the test database and broker.

Tests that need a worker use the ``celery_worker`` fixture (one worker for the
session) or ``start_worker()`` (their own, e.g. to SIGKILL it).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def test_database_url() -> str:
    """A DATABASE_URL naming the database the test session actually uses."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, queues: list[str], concurrency: int = 1, extra_env: dict[str, str] | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "fmgov.settings.test",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "fmgov.core.testing.celery_app",
                "worker",
                "-Q",
                ",".join(queues),
                "-c",
                str(concurrency),
                "--pool",
                "prefork",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
                "-n",
                f"test-{os.getpid()}-{time.time_ns()}@%h",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> "WorkerProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited early:\n{self.output()}")
            time.sleep(0.2)
        raise TimeoutError(f"celery worker not ready after {timeout}s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(queues: list[str] | None = None, **kwargs) -> WorkerProcess:
    return WorkerProcess(queues or list(settings.FMGOV_WORKER_QUEUES), **kwargs).wait_ready()


def wait_for(predicate, timeout: float = 60, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy (e.g. a run row reaches a final state)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
