"""Executing a claimed run in a worker: evaluate with a heartbeat beating, then record the outcome once.

The Celery task only hands over its message id and host (``tasks.execute_run``);
this is the orchestration. It is idempotent: it claims the run (``run_claim``),
evaluates while a heartbeat thread keeps the claim fresh and notices a cancel
or a take-over, and writes the results only if it still holds the claim
(``run_complete``). A worker killed mid-run leaves its message unacknowledged
(``acks_late``); the redelivered message takes the run over.
"""

from __future__ import annotations

import logging
import threading
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.db import close_old_connections, connection

from fmgov.evaluations.adapters import AdapterError, ModelAdapter, adapter_for_deployment
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators import EvaluationContext, EvaluationResult, get_evaluator
from fmgov.evaluations.models import EvaluationRun
from fmgov.evaluations.services.common import stale_after_seconds
from fmgov.evaluations.services.runs import run_claim, run_complete, run_fail, run_progress
from fmgov.registry.models import Deployment

__all__ = ["run_execute", "RunStopped", "Heartbeat"]

logger = logging.getLogger(__name__)


class RunStopped(Exception):
    """The run was cancelled or taken over while this worker evaluated it."""


class Heartbeat(threading.Thread):
    """Beats while the evaluation runs and carries its progress to the database, in its own thread.

    The evaluating thread only hands over a percentage (``report``) and reads
    ``state``: it never waits on a write. A progress write there (a commit, an
    fsync on PostgreSQL) held up the results it collects, and the last one,
    forced at 100%, sat between the final reply and the run's completion.
    Progress is written at most every ``PROGRESS_EVERY`` seconds and only when
    it changed; otherwise the run beats every ``every`` seconds, so a slow
    request never makes a live run look orphaned.
    """

    PROGRESS_EVERY = 0.5

    def __init__(self, run_id: int, task_id: str, every: float):
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.run_id, self.task_id, self.every = run_id, task_id, every
        self.stopped = threading.Event()
        self.state: str = RunState.RUNNING
        self.progress: int | None = None  # the latest percentage the evaluator reported
        self.written: int | None = None  # the percentage last written

    def report(self, percent: int) -> None:
        self.progress = max(0, min(99, percent))  # 100 is written by run_complete, with the results

    def run(self) -> None:
        last_beat = time.monotonic()
        try:
            while not self.stopped.wait(min(self.every, self.PROGRESS_EVERY)):
                progress, now = self.progress, time.monotonic()
                changed = progress is not None and progress != self.written
                if not changed and now - last_beat < self.every:
                    continue
                self.state = run_progress(run_id=self.run_id, task_id=self.task_id, progress=progress)
                self.written, last_beat = progress, now
        except Exception:  # a heartbeat must never take the run down
            logger.exception("heartbeat of run %s failed", self.run_id)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)


class _Progress:
    """The evaluator's progress callback: hands the percentage to the heartbeat, stops the run once it is not ours."""

    def __init__(self, heartbeat: Heartbeat):
        self.heartbeat = heartbeat

    def __call__(self, fraction: float) -> None:
        if self.heartbeat.state != RunState.RUNNING:
            raise RunStopped(self.heartbeat.state)
        self.heartbeat.report(int(fraction * 100))


def _evaluate(run: EvaluationRun, task_id: str) -> EvaluationResult:
    """Run the evaluator against the deployment's adapter (when it needs one), beating meanwhile."""
    evaluator = get_evaluator(run.evaluator)
    heartbeat = Heartbeat(run.pk, task_id, every=max(1.0, stale_after_seconds() / 4))
    heartbeat.start()
    adapter: ModelAdapter | None = None
    judge: ModelAdapter | None = None
    try:
        if evaluator.needs is not None:
            adapter = adapter_for_deployment(run.deployment, concurrency=run.concurrency, suite_config=run.config)
        if run.config.get("judge_deployment"):
            judge = _judge_adapter(run)
        context = EvaluationContext(
            config=run.config,
            adapter=adapter,
            deployment=run.deployment,
            concurrency=run.concurrency,
            progress=_Progress(heartbeat),
            judge=judge,
        )
        return evaluator.run(context)
    finally:
        heartbeat.stop()
        for opened in (adapter, judge):
            if opened is not None:
                opened.close()


def _judge_adapter(run: EvaluationRun) -> ModelAdapter:
    """The suite's judge model, built like any deployment's adapter (egress policy, credential hosts)."""
    judge = Deployment.objects.select_related("endpoint_credential").filter(pk=run.config["judge_deployment"]).first()
    if judge is None:
        raise AdapterError(f"The suite's judge deployment {run.config['judge_deployment']} no longer exists.")
    return adapter_for_deployment(judge, concurrency=run.concurrency)


def run_execute(*, run_id: int, task_id: str, worker: str = "") -> str:
    """Claim, evaluate and record one run for this message; returns what happened, for the task's result.

    ``skipped`` (not ours to run), ``stopped (...)`` (cancelled or taken over meanwhile),
    ``failed``, ``succeeded``, or ``discarded`` (another delivery recorded it first).
    """
    run = run_claim(run_id=run_id, task_id=task_id, worker=worker)
    if run is None:
        return "skipped"
    try:
        result = _evaluate(run, task_id)
    except RunStopped as stopped:
        return f"stopped ({stopped})"
    except SoftTimeLimitExceeded:
        run_fail(run_id=run_id, task_id=task_id, error="The run exceeded its soft time limit.")
        return "failed"
    except (AdapterError, ValueError) as exc:
        run_fail(run_id=run_id, task_id=task_id, error=str(exc))
        return "failed"
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        run_fail(run_id=run_id, task_id=task_id, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    _replace_lost_connection()
    done = run_complete(run_id=run_id, task_id=task_id, result=result)
    if not connection.in_atomic_block:
        close_old_connections()  # the task is over: CONN_MAX_AGE applies here, as at the end of a request
    return "succeeded" if done is not None else "discarded"


def _replace_lost_connection() -> None:
    """Drop this thread's connection if it died while the evaluation ran (idle timeout, server restart).

    Only a dead one: closing it whenever CONN_MAX_AGE had passed (0 in tests) put
    a reconnection (a TCP handshake and authentication on PostgreSQL) into
    every run, between its last reply and its results; that happens once the
    task is over instead.
    """
    if connection.connection is not None and not connection.in_atomic_block and not connection.is_usable():
        connection.close()
