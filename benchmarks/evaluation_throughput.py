"""Requests per second of one evaluation run against a plain concurrent HTTP client.

Starts the local OpenAI-compatible test server (``fmgov.evaluations.testing.fake_openai``)
in its own process with a fixed response delay (20 ms by default), then, in
the same run and against the same server:

- **one run**: a ``qa_accuracy`` suite of N prompts with concurrency C, executed
  by the real task (``fmgov.evaluations.tasks.execute_run``, in this process):
  claim, heartbeat thread, adapter with retries and the bounded pool,
  progress writes to the database, scoring, and the exactly-once write of
  the results. Requests per second = N / (finished_at - started_at).
- **plain client**: the same N chat-completion requests sent by C threads
  sharing one ``httpx.Client`` (pool of C connections), nothing else.
- **asyncio client**: the same with ``httpx.AsyncClient`` and a semaphore of C.

The ceiling is C / delay requests per second. Each measurement is repeated
(best of ``--repeat``); the ratio printed is run / plain client, and the last
line is the JSON figure ``make bench`` tabulates (goal: ratio >= 0.8, ``"op": ">="``).

    python benchmarks/evaluation_throughput.py [--requests 400] [--concurrency 16] [--delay-ms 20] [--repeat 3]

SQLite by default (a throwaway database), PostgreSQL when DATABASE_URL is set.
"""

import argparse
import asyncio
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx
from _setup import ROOT, benchmark_database, describe_database, emit
from django.db import transaction


@contextmanager
def fake_server(delay_ms: float):
    """The test server in its own process, so that it does not share this process's GIL with the clients."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fmgov.evaluations.testing.fake_openai", "--delay-ms", str(delay_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise SystemExit("the fake server did not start")
        yield base_url
    finally:
        process.terminate()
        process.wait(10)


def payloads(n: int) -> list[dict]:
    return [
        {
            "model": "bench",
            "messages": [{"role": "user", "content": f"Question {i}: what is {i} plus {i}?"}],
            "max_tokens": 100,
            "temperature": 0.0,
        }
        for i in range(n)
    ]


def plain_threads(base_url: str, n: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base_url, limits=limits, timeout=30) as client:

        def send(body):
            response = client.post("/chat/completions", json=body)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"]

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            answers = list(pool.map(send, payloads(n)))
        elapsed = time.perf_counter() - started
    assert len(answers) == n
    return n / elapsed


def plain_asyncio(base_url: str, n: int, concurrency: int) -> float:
    async def main() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            gate = asyncio.Semaphore(concurrency)

            async def send(body):
                async with gate:
                    response = await client.post("/chat/completions", json=body)
                    response.raise_for_status()
                    return response.json()

            started = time.perf_counter()
            results = await asyncio.gather(*(send(body) for body in payloads(n)))
            elapsed = time.perf_counter() - started
        assert len(results) == n
        return n / elapsed

    return asyncio.run(main())


def one_run(base_url: str, n: int, concurrency: int, setup: dict) -> float:
    from fmgov.evaluations import services, tasks
    from fmgov.evaluations.choices import RunState
    from fmgov.evaluations.models import EvaluationRun

    with transaction.atomic():
        run = services._new_run(suite=setup["suite"], deployment=setup["deployment"], actor=None, schedule=None)
    tasks.execute_run.apply(args=[run.pk], task_id=f"bench-{run.pk}")
    run = EvaluationRun.objects.get(pk=run.pk)
    if run.state != RunState.SUCCEEDED:
        raise SystemExit(f"the run did not succeed: {run.state} {run.error}")
    assert run.metrics.get(name="accuracy").value == 1.0
    return n / (run.finished_at - run.started_at).total_seconds()


def build(base_url: str, n: int, concurrency: int) -> dict:
    from fmgov.accounts.services import user_create
    from fmgov.evaluations import services
    from fmgov.registry.models import Deployment, FoundationModel

    user = user_create(username="bench", roles=["engineer"], password="bench-password-123", email="b@example.org")
    model = FoundationModel.objects.create(
        name="bench-model", provider="bench", modality="text", access="api", owner=user
    )
    deployment = Deployment.objects.create(
        name="bench-deployment",
        foundation_model=model,
        environment="staging",
        endpoint_adapter="openai_chat",
        endpoint_base_url=base_url,
        endpoint_model="bench",
        owner=user,
    )
    answer = {"answer": "here is a clear", "match": "contains"}  # the fake server's reply holds it
    items = [{"prompt": b["messages"][0]["content"], **answer} for b in payloads(n)]
    suite = services.suite_create(
        actor=user,
        name="bench qa",
        evaluator="qa_accuracy",
        config={"items_jsonl": "\n".join(json.dumps(i) for i in items)},
        thresholds={"accuracy": {"op": ">=", "value": 0.9}},
        concurrency=concurrency,
    )
    return {"suite": suite, "deployment": deployment}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, c = args.requests, args.concurrency

    with benchmark_database(), fake_server(args.delay_ms) as base_url:
        setup = build(base_url, n, c)
        plain_threads(base_url, 32, c)  # warm up connections and code paths
        best = {"run": 0.0, "threads": 0.0, "asyncio": 0.0}
        for _ in range(args.repeat):
            best["run"] = max(best["run"], one_run(base_url, n, c, setup))
            best["threads"] = max(best["threads"], plain_threads(base_url, n, c))
            best["asyncio"] = max(best["asyncio"], plain_asyncio(base_url, n, c))
        ceiling = c / (args.delay_ms / 1000)
        print(f"evaluation throughput: {n} requests, concurrency {c}, {args.delay_ms:g} ms server delay")
        print(f"database: {describe_database()}; best of {args.repeat}; ceiling {ceiling:.0f} req/s")
        print(f"  one evaluation run (execute_run task) {best['run']:8.1f} req/s")
        print(f"  plain httpx client, {c} threads      {best['threads']:8.1f} req/s")
        print(f"  plain httpx AsyncClient, {c} in flight {best['asyncio']:8.1f} req/s")
        print(f"ratio run / plain threaded client: {best['run'] / best['threads']:.2f}")
        print(f"ratio run / plain asyncio client:  {best['run'] / best['asyncio']:.2f}")
        # The claim (issue 17): one run keeps at least 0.8x the plain threaded client's rate.
        emit("evaluation_throughput", best["run"], baseline=best["threads"], goal=0.8, op=">=", unit="req/s")


if __name__ == "__main__":
    main()
