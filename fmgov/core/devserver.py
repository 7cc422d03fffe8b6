"""`make run`: the web app, a Celery worker and Celery beat, stopped together by Ctrl-C."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings  # noqa: F401  (settings module must import cleanly)

PROCESSES = {
    "web": [sys.executable, "manage.py", "runserver", "127.0.0.1:8000", "--noreload"],
    "worker": [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "fmgov",
        "worker",
        "-Q",
        "default,evaluations,reports,notifications",
        "-c",
        "2",
        "-l",
        "info",
        "--without-mingle",
        "--without-gossip",
    ],
    "beat": [sys.executable, "-m", "celery", "-A", "fmgov", "beat", "-l", "info"],
}


def main() -> int:
    children = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in PROCESSES.items()}
    print("fmgov is starting: http://127.0.0.1:8000  (web, worker and beat; Ctrl-C stops all)", flush=True)

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
