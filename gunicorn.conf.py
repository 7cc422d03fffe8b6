"""gunicorn settings, read from the working directory by default (the Dockerfile's and compose's ``/app``).

Threaded workers (``gthread``): a request waiting on PostgreSQL (a row lock, the audit chain head a
writer holds to commit, a slow report query) no longer holds a whole process, so reads keep being
served while writes queue on the chain (issue 18, ``benchmarks/load.py``). Each thread keeps its own
database connection for ``CONN_MAX_AGE`` seconds; workers x threads must stay below PostgreSQL's
``max_connections`` with the Celery workers' connections added. Command-line flags still win
(the Dockerfile's ``--workers 3``).
"""

import multiprocessing
import os

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle a worker now and then (with jitter, so not all at once) to bound any slow leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))


def post_worker_init(worker) -> None:
    """Move what the worker loaded at start-up out of the garbage collector's sight (``gc.freeze``).

    A worker holds some 350,000 container objects once Django and the apps are loaded; every full
    collection walked them all, 190 ms of CPU in the middle of whichever request triggered it (the API
    review list's p95 was 950 ms against a 130 ms median). Frozen, they are never scanned again.
    """
    import gc

    if os.environ.get("GUNICORN_GC_FREEZE", "1") == "0":  # to measure without it
        return
    gc.collect()  # garbage of the start-up goes first, or freezing would keep it for good
    gc.freeze()
