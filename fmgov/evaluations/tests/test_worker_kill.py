"""A worker SIGKILLed in the middle of a run: the run finishes exactly once after a new worker starts.

On Redis the unacknowledged message is redelivered (acks_late, reject_on_worker_lost;
the new worker restores messages older than its visibility timeout). The
filesystem broker cannot redeliver, so the sweeper beat task re-queues the run
once its heartbeat is stale.
"""

import re
import time

import pytest
from django.conf import settings
from django.db import transaction

from audits.models import AuditEvent
from fmgov.core.testing.worker import start_worker, wait_for
from fmgov.evaluations import services, tasks
from fmgov.evaluations.choices import RUN_FINAL_STATES, RunState
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.evaluations.testing.fake_openai import Behaviour
from fmgov.evaluations.tests.factories import chat_deployment, suite

KILL_QUEUE = "evaluations-kill-test"
REDIS = settings.CELERY_BROKER_URL.startswith("redis")


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_run_killed_with_its_worker_finishes_exactly_once(fake_openai, engineer):
    fake_openai.behaviour = Behaviour(mode="refuse", delay_s=0.08)
    deployment = chat_deployment(engineer, fake_openai.base_url)
    s = suite(engineer, concurrency=2, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    with transaction.atomic():
        run = services._new_run(suite=s, deployment=deployment, actor=engineer, schedule=None)
    extra_env = {"CELERY_VISIBILITY_TIMEOUT": "1"}
    first = start_worker([KILL_QUEUE], extra_env=extra_env)
    try:
        message = tasks.execute_run.apply_async(args=[run.pk], queue=KILL_QUEUE)
        wait_for(lambda: EvaluationRun.objects.get(pk=run.pk).progress >= 20, timeout=60, message="run under way")
    finally:
        first.kill()
    killed = EvaluationRun.objects.get(pk=run.pk)
    assert killed.state == RunState.RUNNING and killed.task_id == message.id
    time.sleep(1.5)  # past the visibility timeout (Redis) and the sweeper's staleness window (filesystem)
    requests_before = fake_openai.stats[200]  # including the requests in flight when the worker died
    assert 0 < requests_before < 74
    second = start_worker([KILL_QUEUE, "evaluations"], extra_env=extra_env)
    try:
        if not REDIS:
            assert services.runs_requeue_orphaned(stale_after=1) == [run.pk]
        done = wait_for(
            lambda: EvaluationRun.objects.filter(pk=run.pk, state__in=RUN_FINAL_STATES).first(),
            timeout=120,
            message="run finished after restart",
        )
        time.sleep(1)  # let any duplicate delivery reach the worker and be refused
    finally:
        second.stop()
    assert done.state == RunState.SUCCEEDED, done.error
    assert done.attempts == 2 and done.progress == 100
    if REDIS:
        assert done.task_id == message.id  # the very message, redelivered
    else:
        assert done.task_id != message.id
        assert AuditEvent.objects.filter(action="evaluation_run.requeue", object_id=str(run.pk)).count() == 1
    assert (
        RunMetric.objects.filter(run=run).count() == 9
    )  # refusal_rate, partial_compliance_rate, 6 categories, over_refusal_rate
    assert RunMetric.objects.get(run=run, name="refusal_rate").value == 1.0
    assert AuditEvent.objects.filter(action="evaluation_run.finish", object_id=str(run.pk)).count() == 1
    assert AuditEvent.objects.filter(action="evaluation_run.start", object_id=str(run.pk)).count() == 2
    assert fake_openai.stats[200] == requests_before + 74  # the second attempt ran the whole suite


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_run_delivered_three_times_concurrently_writes_its_results_once(fake_openai, engineer):
    fake_openai.behaviour = Behaviour(mode="refuse", delay_s=0.01)
    deployment = chat_deployment(engineer, fake_openai.base_url)
    s = suite(engineer, concurrency=4, config={"include_over_refusal": False})
    with transaction.atomic():
        run = services._new_run(suite=s, deployment=deployment, actor=engineer, schedule=None)
    worker = start_worker([KILL_QUEUE], concurrency=3)
    try:
        first = tasks.execute_run.apply_async(args=[run.pk], queue=KILL_QUEUE)
        tasks.execute_run.apply_async(args=[run.pk], queue=KILL_QUEUE)  # another message for the same run
        tasks.execute_run.apply_async(args=[run.pk], queue=KILL_QUEUE, task_id=first.id)  # the same message again
        wait_for(
            lambda: EvaluationRun.objects.filter(pk=run.pk, state__in=RUN_FINAL_STATES).exists(),
            timeout=60,
            message="run",
        )
        time.sleep(1.5)  # let the other deliveries finish too
    finally:
        worker.stop()
    done = EvaluationRun.objects.get(pk=run.pk)
    assert done.state == RunState.SUCCEEDED, done.error
    assert (
        RunMetric.objects.filter(run=run).count() == 8
    )  # refusal_rate, partial_compliance_rate and the six categories
    assert AuditEvent.objects.filter(action="evaluation_run.finish", object_id=str(run.pk)).count() == 1
    outcomes = re.findall(r"execute_run\[[^\]]+\] succeeded in [\d.]+s: '([^']+)'", worker.output())
    assert len(outcomes) == 3 and outcomes.count("succeeded") == 1, outcomes
    assert {o for o in outcomes if o != "succeeded"} <= {"skipped", "discarded"} | {
        o for o in outcomes if "stopped" in o
    }
