"""Load test: gunicorn on PostgreSQL, 50 concurrent API users for 60 s per scenario, then verify the audit chain.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python benchmarks/load.py

What it does, all on loopback:

1. creates a fresh PostgreSQL database (``fmgov_load_<pid>``), migrates it and
   loads the demo data, then makes one API token per virtual user;
2. starts gunicorn with the repository's ``gunicorn.conf.py`` (threaded workers;
   ``GUNICORN_WORKER_CLASS``/``_WORKERS``/``_THREADS`` override it) and
   ``fmgov.settings.production`` with generated secrets, no TLS redirect, on
   127.0.0.1 with an extra URL, ``/bench/baseline/``: a
   plain DRF ``ListAPIView`` over the same table as ``/api/v1/foundation-models/``
   with the same page size and token authentication, and nothing else;
3. **mixed run**: USERS concurrent users (asyncio + httpx, one keep-alive
   connection each) for DURATION seconds; each loop picks an action by weight:
   reads (model, deployment, review, audit-event lists and a model detail),
   registry writes (create a deployment, edit one's own), review actions (open a
   review on the user's own deployment, add a risk item) and report requests;
4. **read-only run**: the same users for the same time, every action a read
   of the mixed run's read list;
5. **baseline run**: the same users for the same time, each request a GET of
   the baseline view;
6. **read-only run, computed**: gunicorn restarted with ``API_READ_CACHE_SECONDS=0``
   and the read-only run again, every answer computed (the API caches registry
   and review reads per user under the audit chain head, ``audits/cached_reads.py``;
   in the mixed run the writes move the head all the time);
7. prints requests/s, p50/p95/p99 latency and the error count for each run and
   action, the ratios against the baseline, then runs ``verify_audit_trail``
   on the database and drops it. Exit status 1 if there was any error or the
   chain does not verify.

The goals (issue 18), each printed as a JSON line for ``make bench``: read-only
throughput >= 0.8x the plain list's; mixed p95 <= 2x the read-only p95; no errors.
The read-only run with the cache off is printed too, without a goal.

Bounded: every user stops at the deadline or after MAX_REQUESTS_PER_USER
requests, every request has a timeout, and the target must be a loopback address.

No extra dependency: httpx is already in the environment. (locust is not
installed; this driver reports the same figures.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from _load_users import Stats, User

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("LOAD_USERS", "50"))
DURATION = float(os.environ.get("LOAD_SECONDS", "60"))
MAX_REQUESTS_PER_USER = int(os.environ.get("LOAD_MAX_REQUESTS_PER_USER", "100000"))
REQUEST_TIMEOUT = 30.0
HOST = "127.0.0.1"

# --- the WSGI side (imported by gunicorn as ``load:create_app()``) --------------------------------

urlpatterns: list = []


def create_app():
    """gunicorn entry point: fmgov plus the baseline view, as this module's URLconf."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.urls import include, path
    from rest_framework import generics, serializers

    from fmgov.core.api.pagination import StandardPagination
    from fmgov.registry.models import FoundationModel

    class BaselineSerializer(serializers.ModelSerializer):
        class Meta:
            model = FoundationModel
            fields = "__all__"

    class BaselineList(generics.ListAPIView):
        queryset = FoundationModel.objects.order_by("pk")
        serializer_class = BaselineSerializer
        pagination_class = StandardPagination
        filter_backends: list = []

    urlpatterns[:] = [path("bench/baseline/", BaselineList.as_view()), path("", include("fmgov.urls"))]
    settings.ROOT_URLCONF = __name__
    return get_wsgi_application()


# --- the driver -----------------------------------------------------------------------------------


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise SystemExit(f"refusing to load-test {host!r}: only loopback addresses are allowed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _psql_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    env = dict(os.environ)
    env.update(PGHOST=parts.hostname or HOST, PGPORT=str(parts.port or 5432), PGUSER=parts.username or "postgres")
    if parts.password:
        env["PGPASSWORD"] = parts.password
    return env


MIX = [("read", 60), ("registry_write", 20), ("review_action", 12), ("report_request", 8)]


async def _run(base_url: str, tokens: list[str], fixtures: dict, mode: str, seconds: float) -> dict:
    import httpx

    stats = Stats()
    deadline = time.monotonic() + seconds
    actions, weights = zip(*MIX, strict=True)

    async def user_loop(index: int, token: str) -> None:
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits, trust_env=False
        ) as client:
            user = User(client, fixtures, index, stats)
            for _ in range(MAX_REQUESTS_PER_USER):
                if time.monotonic() >= deadline:
                    break
                if mode == "baseline":
                    await user.baseline()
                elif mode == "read-only":
                    await user.read()
                else:
                    await getattr(user, user.random.choices(actions, weights)[0])()

    started = time.monotonic()
    await asyncio.gather(*(user_loop(i, tokens[i % len(tokens)]) for i in range(USERS)))
    return stats.summary(time.monotonic() - started)


SETUP_SCRIPT = r"""
import io, json, django
django.setup()
from django.core.management import call_command
from fmgov.accounts.services import token_create, user_create
from fmgov.registry.models import FoundationModel
from reviews_models import RiskCategory
call_command("seed_demo", stdout=io.StringIO())
tokens = []
for i in range(USERS):
    roles = ["engineer", "reviewer", "auditor"]
    user = user_create(username=f"load{i}", roles=roles, password="load-password-" + str(i))
    tokens.append(token_create(user=user, name="load")[1])
print(json.dumps({
    "tokens": tokens,
    "models": list(FoundationModel.objects.values_list("pk", flat=True)),
    "categories": list(RiskCategory.objects.values_list("slug", flat=True)),
}))
""".replace("reviews_models", "fmgov.reviews.models")


def _print_run(name: str, result: dict) -> None:
    print(
        f"{name:<9} {result['requests']:>7} req  {result['rps']:>8.1f} req/s  "
        f"p50 {result['p50_ms']:>7.1f} ms  p95 {result['p95_ms']:>7.1f} ms  p99 {result['p99_ms']:>7.1f} ms  "
        f"errors {result['errors']}"
    )
    for action, row in result["actions"].items():
        print(
            f"  {action:<15} {row['requests']:>7} req  p50 {row['p50_ms']:>7.1f} ms  "
            f"p95 {row['p95_ms']:>7.1f} ms  errors {row['errors']}"
        )
    for endpoint, row in result["reads"].items():
        latency = f"p50 {row['p50_ms']:>7.1f} ms  p95 {row['p95_ms']:>7.1f} ms"
        print(f"    read {endpoint:<34} {row['requests']:>6} req  {latency}")
    for action, sample in result["error_samples"].items():
        print(f"  first {action} error: {sample}")


def main() -> int:
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not admin_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("benchmarks/load.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    _require_loopback(admin_url)
    parts = urlsplit(admin_url)
    dbname = f"fmgov_load_{os.getpid()}"
    db_url = parts._replace(path=f"/{dbname}").geturl()
    pg_env = _psql_env(admin_url)
    port = _free_port()
    base_url = f"http://{HOST}:{port}"
    _require_loopback(base_url)
    run_dir = ROOT / "var" / f"load-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "fmgov.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "AUDIT_CHECKPOINT_KEY": secrets.token_urlsafe(32),
        "CREDENTIAL_PUBLIC_KEY": _credential_public_key(),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": HOST,
        "LOG_LEVEL": "WARNING",
        "FMGOV_VAR_DIR": str(run_dir),
        "FMGOV_BROKER_KEYPREFIX": f"fmgov-load-{os.getpid()}:",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]),
    }
    env.setdefault("CELERY_BROKER_URL", "")  # empty = the embedded broker in run_dir: report tasks queue up there
    subprocess.run(["createdb", dbname], env=pg_env, check=True)
    gunicorn = None
    exit_code = 0
    try:
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
        setup = subprocess.run(
            [sys.executable, "-c", SETUP_SCRIPT.replace("USERS", str(USERS))],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        fixtures = json.loads(setup.stdout.strip().splitlines()[-1])
        tokens = fixtures.pop("tokens")
        gunicorn = _serve(env, port)
        _wait_for_http(f"{base_url}/healthz/", gunicorn)
        print(
            f"load: {USERS} users x {DURATION:.0f} s against gunicorn ({_gunicorn_shape(env)}) on PostgreSQL, "
            f"CONN_MAX_AGE {env.get('CONN_MAX_AGE', '60 (default)')}, {os.cpu_count()} CPUs; mix {dict(MIX)}"
        )
        runs = {mode: asyncio.run(_run(base_url, tokens, fixtures, mode, DURATION)) for mode in SCENARIOS}
        # The same reads with every answer computed: gunicorn again with the trail-head cache off.
        _stop(gunicorn)
        gunicorn = _serve({**env, "API_READ_CACHE_SECONDS": "0"}, port)
        _wait_for_http(f"{base_url}/healthz/", gunicorn)
        runs["read-only, computed"] = asyncio.run(_run(base_url, tokens, fixtures, "read-only", DURATION))
        mixed, read_only, baseline, computed = (runs[mode] for mode in (*SCENARIOS, "read-only, computed"))
        for mode, result in runs.items():
            _print_run(mode, result)
        reads = mixed["actions"].get("read", {})
        print(
            f"ratio mixed/baseline: throughput {mixed['rps'] / baseline['rps']:.2f}x, "
            f"p50 {mixed['p50_ms'] / baseline['p50_ms']:.2f}x, p95 {mixed['p95_ms'] / baseline['p95_ms']:.2f}x; "
            f"reads in the mix p50 {reads.get('p50_ms', 0):.1f} ms vs baseline {baseline['p50_ms']:.1f} ms"
        )
        _emit("load: read-only req/s vs plain list", read_only["rps"], baseline["rps"], 0.8, ">=", "req/s")
        _emit("load: mixed p95 vs read-only p95", mixed["p95_ms"], read_only["p95_ms"], 2.0, "<=", "ms")
        _emit("load: errors, all scenarios", sum(r["errors"] for r in runs.values()), None, 0, "<=", "")
        _emit("load: read-only req/s vs plain list, cache off", computed["rps"], baseline["rps"], None, ">=", "req/s")
        verify = subprocess.run(
            [*manage, "verify_audit_trail"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        print((verify.stdout or verify.stderr).strip())
        if any(r["errors"] for r in runs.values()) or verify.returncode != 0:
            exit_code = 1
    finally:
        if gunicorn is not None:
            _stop(gunicorn)
        subprocess.run(["dropdb", "--if-exists", "--force", dbname], env=pg_env, check=False)
        shutil.rmtree(run_dir, ignore_errors=True)
    return exit_code


SCENARIOS = ("mixed", "read-only", "baseline")


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    """gunicorn with the repository's settings file on the loopback port, in its own process group."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "load:create_app()", "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"{HOST}:{port}", "--log-level", "warning", "--chdir", str(ROOT / "benchmarks"),
        ],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _credential_public_key() -> str:
    """A throwaway X25519 public key: production settings refuse to start without one."""
    sys.path.insert(0, str(ROOT))
    from fmgov.settings.dev_keys import new_key_pair

    return new_key_pair()[1]


def _gunicorn_shape(env: dict[str, str]) -> str:
    """Workers x threads as gunicorn.conf.py will read them from this environment."""
    shape = subprocess.run(
        [sys.executable, "-c", "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
         "print(c['workers'], c['threads'], c['worker_class'])"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return f"{shape[0]} {shape[2]} workers x {shape[1]} threads"


def _emit(benchmark: str, value: float, baseline: float | None, goal: float | None, op: str, unit: str) -> None:
    """One figure as a JSON line in the shape of ``_setup.emit`` (this driver does not set Django up)."""
    ratio = value / baseline if baseline else None
    measured = value if ratio is None else ratio
    met = None if goal is None else (measured <= goal if op == "<=" else measured >= goal)
    figure = {
        "benchmark": benchmark,
        "value": round(value, 6),
        "baseline": None if baseline is None else round(baseline, 6),
        "ratio": None if ratio is None else round(ratio, 4),
        "goal": goal,
        "op": op,
        "unit": unit,
        "met": met,
        "database": "PostgreSQL",
    }
    print(json.dumps(figure), flush=True)


def _wait_for_http(url: str, process, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited during start-up")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
