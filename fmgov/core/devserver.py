"""`make run`: the web app, a Celery worker and Celery beat, stopped together by Ctrl-C.

The terminal stays readable: worker and beat log warnings only (development mail
adds one line per message), and start-up ends with one block saying where to log
in and as whom. That block waits until the web server answers and the worker has
sent the notifications seeding queued, so their lines come before it, not after.
"""

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

__all__ = ["main", "ready_banner", "wait_until_ready"]

PORT = int(os.environ.get("FMGOV_RUN_PORT", "8000"))
URL = f"http://127.0.0.1:{PORT}/"
# "info" brings back Celery's line per task received and succeeded.
CELERY_LOG_LEVEL = os.environ.get("FMGOV_RUN_CELERY_LOG_LEVEL", "warning")
OUTBOX_BACKEND = "fmgov.notifications.backends.OutboxEmailBackend"
NOTIFICATION_QUEUE = "notifications"
# The outbox counts as caught up once it has not grown for this long with nothing left queued.
QUIET_SECONDS = 2.0
POLL_SECONDS = 0.5
READY_TIMEOUT_SECONDS = 120.0

PROCESSES = {
    "web": [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
    "worker": [
        sys.executable, "-m", "celery", "-A", "fmgov", "--quiet", "worker",
        "-Q", "default,evaluations,reports,notifications,audit-signing", "-c", "2", "-l", CELERY_LOG_LEVEL,
        "--without-mingle", "--without-gossip",
    ],
    "beat": [sys.executable, "-m", "celery", "-A", "fmgov", "--quiet", "beat", "-l", CELERY_LOG_LEVEL],
}  # fmt: skip


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  (our own loopback address)
            return response.status == 200
    except OSError:
        return False


def _queued(queue: str) -> int:
    """Messages waiting in ``queue``; 0 when the broker does not know it (yet) or cannot say."""
    from fmgov.celery import app

    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:
        return 0


def _outbox() -> Path | None:
    """The development outbox directory, or None when e-mail really goes out."""
    return Path(settings.EMAIL_FILE_PATH) if settings.EMAIL_BACKEND == OUTBOX_BACKEND else None


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def _mail_count() -> int:
    outbox = _outbox()
    return sum(1 for _ in outbox.glob("*.eml")) if outbox and outbox.is_dir() else 0


def wait_until_ready(
    alive: Callable[[], bool],
    *,
    web_up: Callable[[], bool] = lambda: _answers(URL + "healthz/"),
    queued: Callable[[], int] = lambda: _queued(NOTIFICATION_QUEUE),
    mail_count: Callable[[], int] = _mail_count,
) -> bool:
    """True once the web answers and queued mail is sent (or the time is up); False if a process died."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last, quiet_since, web = None, time.monotonic(), False
    while time.monotonic() < deadline:
        if not alive():
            return False
        web = web or web_up()  # asked until it answers once: each request is a line in the terminal
        if web and queued() == 0:
            count = mail_count()
            if count != last:
                last, quiet_since = count, time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_SECONDS:
                return True
        time.sleep(POLL_SECONDS)
    return True


def ready_banner(login: str, *, url: str = URL, outbox: Path | None = None, mail_count: int = 0) -> str:
    """The last thing start-up prints: the address, the logins, and where the e-mail went."""
    lines = [f"fmgov is ready: {url}", *login.strip().splitlines()]
    if outbox is not None:
        lines.append(
            f"E-mail is kept, not sent: {mail_count} message(s) in {_shown(outbox)}/; read them at {url}outbox/"
        )
    lines.append("Ctrl-C stops the web server, the worker and beat.")
    rule = "─" * min(100, max(len(line) for line in lines))
    return "\n".join([rule, *lines, rule])


def main() -> int:
    login = io.StringIO()
    call_command("ensure_admin", stdout=login)
    children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in PROCESSES.items()}
    print("fmgov is starting web, worker and beat; how to log in follows once queued e-mail is sent.", flush=True)

    def stop(*_):
        # SIGTERM to each main process only: Celery then stops its own pool children
        # (a warm shutdown); the whole group is killed only if that takes too long.
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(5)

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        if wait_until_ready(lambda: all(child.poll() is None for child in children.values())):
            print(ready_banner(login.getvalue(), outbox=_outbox(), mail_count=_mail_count()), flush=True)
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the others", flush=True)
                    stop()
                    return child.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        stop()
        return 0


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fmgov.settings.development")
    django.setup()
    sys.exit(main())
