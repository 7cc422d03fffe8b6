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
