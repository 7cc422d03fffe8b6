"""The evaluating thread never waits on the database: progress and cancellation travel through the heartbeat."""

import json
import threading
import time

import pytest
from django.db import connection, transaction

from fmgov.evaluations import services
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun
from fmgov.evaluations.services.execution import Heartbeat, RunStopped, _Progress
from fmgov.evaluations.testing.fake_openai import Behaviour
from fmgov.evaluations.tests.factories import chat_deployment, suite

pytestmark = pytest.mark.django_db(transaction=True)  # the heartbeat writes on its own connection


def qa_run(engineer, base_url: str, items: int) -> EvaluationRun:
    rows = [{"prompt": f"Question {i}", "answer": "clear", "match": "contains"} for i in range(items)]
    s = suite(
        engineer,
        evaluator="qa_accuracy",
        config={"items_jsonl": "\n".join(json.dumps(r) for r in rows)},
        concurrency=2,
    )
    with transaction.atomic():
        return services._new_run(suite=s, deployment=chat_deployment(engineer, base_url), actor=engineer, schedule=None)


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_progress_is_handed_to_the_heartbeat_which_writes_it(engineer, django_assert_num_queries):
    run = qa_run(engineer, "http://127.0.0.1:9/v1", items=1)
    services.run_claim(run_id=run.pk, task_id="t", worker="w")
    heartbeat = Heartbeat(run.pk, "t", every=60)
    progress = _Progress(heartbeat)
    with django_assert_num_queries(0):  # the evaluating thread does not touch the database
        progress(0.37)
        progress(1.0)  # 100 is run_complete's to write, with the results
    assert heartbeat.progress == 99
    heartbeat.start()
    try:
        wait_until(lambda: EvaluationRun.objects.get(pk=run.pk).progress == 99, timeout=5)
    finally:
        heartbeat.stop()
    assert not heartbeat.is_alive()


def test_a_run_cancelled_while_it_evaluates_stops_within_a_second(engineer, fake_openai):
    fake_openai.behaviour = Behaviour(mode="comply", delay_s=0.05)
    run = qa_run(engineer, fake_openai.base_url, items=120)  # 3 s of requests at concurrency 2

    def cancel_once_under_way():
        try:
            wait_until(lambda: EvaluationRun.objects.get(pk=run.pk).progress > 0)
            services.run_cancel(run=run, actor=engineer)
            cancelled_at.append(time.monotonic())
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    cancelled_at: list[float] = []
    canceller = threading.Thread(target=cancel_once_under_way)
    canceller.start()
    outcome = services.run_execute(run_id=run.pk, task_id="t", worker="w")
    stopped_at = time.monotonic()
    canceller.join(10)
    assert outcome == f"stopped ({RunState.CANCELLED})"
    assert stopped_at - cancelled_at[0] < 1.5  # noticed by the heartbeat's next write, at most 0.5 s later
    assert fake_openai.stats[200] < 120
    run.refresh_from_db()
    assert run.state == RunState.CANCELLED and not run.metrics.exists()


def test_a_stopped_heartbeat_stops_the_evaluation_at_its_next_result():
    heartbeat = Heartbeat(1, "t", every=60)
    heartbeat.state = "taken_over"
    with pytest.raises(RunStopped):
        _Progress(heartbeat)(0.5)
