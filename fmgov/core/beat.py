"""A django-celery-beat scheduler that runs the schedule in one beat only.

Two ``celery beat`` processes started by mistake (a second container, a
restart that overlaps the old one) would each send every periodic task, so
evaluations, expiry sweeps and checkpoints would run twice. Each
``LockedDatabaseScheduler`` therefore takes a lock before it sends anything:

- on PostgreSQL, a session-level advisory lock (``pg_try_advisory_lock``) on a
  connection of its own, kept for the life of the process. The server releases
  it when that session ends, so a beat that crashes or loses its database
  connection hands over without anyone cleaning up; the leader renews its claim
  by checking the connection on every tick and steps down if it is gone.
- on any other database (the embedded SQLite default), an exclusive ``flock``
  on a file next to the database, released by the kernel when the process dies.

A beat that does not hold the lock stays idle: it sends nothing and tries
again every ``FMGOV_BEAT_LOCK_RETRY_SECONDS`` (default 5). When it takes over
it re-reads the schedule from the database, so it starts from the
``last_run_at`` the previous leader saved rather than from its own stale copy.

Use: ``CELERY_BEAT_SCHEDULER = "fmgov.core.beat.LockedDatabaseScheduler"`` or
``celery -A fmgov beat -S fmgov.core.beat.LockedDatabaseScheduler``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import connections
from django_celery_beat.schedulers import DatabaseScheduler

__all__ = ["LockedDatabaseScheduler", "BeatLock", "PostgresAdvisoryLock", "FileLock", "beat_lock_for_database"]

logger = logging.getLogger(__name__)

LOCK_NAME = "fmgov.celery.beat"


class BeatLock:
    """A non-blocking, process-lifetime lock. ``acquire()`` returns whether it is now held."""

    description = "lock"

    def acquire(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def still_held(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def release(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class PostgresAdvisoryLock(BeatLock):
    """``pg_try_advisory_lock`` on a dedicated autocommit connection."""

    def __init__(self, settings_dict: dict, name: str = LOCK_NAME):
        self.settings_dict = settings_dict
        # Advisory locks are per database, so the same key never collides with
        # another database on the same server (e.g. parallel test sessions).
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
        self.conn = None
        self.description = f"PostgreSQL advisory lock {self.key} on database {settings_dict.get('NAME')!r}"

    def _connect(self):
        import psycopg

        db = self.settings_dict
        params = {
            "dbname": db.get("NAME"),
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
            "application_name": "fmgov-beat-lock",
            "connect_timeout": 10,
            # A beat cut off from the database loses the session, and so the lock,
            # within about a minute instead of the kernel's default two hours.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
        options = dict(db.get("OPTIONS") or {})
        for unsupported in ("pool", "server_side_binding", "isolation_level", "assume_role"):
            options.pop(unsupported, None)
        params.update(options)
        return psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v is not None})

    def acquire(self) -> bool:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = self._connect()
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
            return bool(row and row[0])
        except Exception as exc:  # the database may be down; stay idle and retry
            logger.warning("beat lock: cannot reach PostgreSQL (%s); staying idle", exc)
            self._drop()
            return False

    def still_held(self) -> bool:
        if self.conn is None or self.conn.closed:
            return False
        try:
            row = self.conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = %s",
                [self.key],
            ).fetchone()
            return bool(row and row[0])
        except Exception as exc:
            logger.error("beat lock: lost the PostgreSQL session holding the lock (%s)", exc)
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.conn.close()
        self.conn = None

    def release(self) -> None:
        if self.conn is not None and not self.conn.closed:
            with contextlib.suppress(Exception):  # the session end releases it anyway
                self.conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        self._drop()


class FileLock(BeatLock):
    """An exclusive ``flock`` on a file; the kernel releases it when the process dies."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.fd: int | None = None
        self.description = f"file lock {self.path}"

    def acquire(self) -> bool:
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return True

    def still_held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def beat_lock_for_database(alias: str = "default") -> BeatLock:
    db = connections[alias].settings_dict
    if db["ENGINE"].startswith("django.db.backends.postgresql"):
        return PostgresAdvisoryLock(db)
    configured = getattr(settings, "FMGOV_BEAT_LOCK_FILE", "") or os.environ.get("FMGOV_BEAT_LOCK_FILE", "")
    if configured:
        return FileLock(Path(configured))
    # One lock per database, so beats of different databases never block each other.
    name = str(Path(str(db["NAME"])).resolve()) if db["ENGINE"].endswith("sqlite3") else str(db["NAME"])
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return FileLock(Path(settings.VAR_DIR) / f"celerybeat-{digest}.lock")


class LockedDatabaseScheduler(DatabaseScheduler):
    """``DatabaseScheduler`` that sends due tasks only while it holds the beat lock."""

    lock_retry_seconds = float(os.environ.get("FMGOV_BEAT_LOCK_RETRY_SECONDS", "5"))

    def __init__(self, *args, **kwargs):
        self.beat_lock = beat_lock_for_database()
        self.is_leader = False
        self._announced_idle = False
        super().__init__(*args, **kwargs)

    def _become_leader(self) -> None:
        self.is_leader = True
        self._announced_idle = False
        logger.warning("beat lock acquired (%s): this beat runs the schedule", self.beat_lock.description)
        # Re-read the schedule: while idle our copy went stale (another beat ran
        # the tasks and saved last_run_at), and the heap must be rebuilt from it.
        self._dirty.clear()
        self._initial_read = True
        self._heap = None

    def _step_down(self) -> None:
        self.is_leader = False
        self._dirty.clear()
        logger.error("beat lock lost (%s): this beat stops sending tasks", self.beat_lock.description)

    def tick(self, *args, **kwargs):
        if self.is_leader and not self.beat_lock.still_held():
            self._step_down()
        if not self.is_leader:
            if not self.beat_lock.acquire():
                if not self._announced_idle:
                    logger.warning(
                        "beat lock held by another beat (%s): staying idle, retrying every %ss",
                        self.beat_lock.description,
                        self.lock_retry_seconds,
                    )
                    self._announced_idle = True
                return self.lock_retry_seconds
            self._become_leader()
        return super().tick(*args, **kwargs)

    def sync(self):
        if not getattr(self, "is_leader", False):
            # An idle beat has sent nothing, so it has nothing of its own to save.
            getattr(self, "_dirty", set()).clear()
            return
        super().sync()

    def close(self):
        try:
            super().close()
        finally:
            if getattr(self, "beat_lock", None) is not None:
                self.beat_lock.release()
            self.is_leader = False
