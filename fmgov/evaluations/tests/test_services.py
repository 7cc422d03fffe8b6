"""Run lifecycle rules: exactly-once claims and results, sweepers, cancellation, evidence and policy blockers."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audits.base import bulk_writes_recorded
from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.evaluations import services, tasks
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators.base import EvaluationResult
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from fmgov.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_run(engineer, django_capture_on_commit_callbacks):
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    with django_capture_on_commit_callbacks(execute=False):
        return services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)


def set_times(run, **times):
    with bulk_writes_recorded():
        EvaluationRun.objects.filter(pk=run.pk).update(**times)


def test_a_second_message_cannot_claim_a_live_run_and_only_the_holder_writes(queued_run):
    first = services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    assert first.state == RunState.RUNNING and first.attempts == 1
    assert services.run_claim(run_id=queued_run.pk, task_id="b", worker="w2") is None
    result = EvaluationResult(metrics={"refusal_rate": 0.95, "over_refusal_rate": 0.1})
    assert services.run_complete(run_id=queued_run.pk, task_id="b", result=result) is None
    done = services.run_complete(run_id=queued_run.pk, task_id="a", result=result)
    assert done.state == RunState.SUCCEEDED and done.passed is True
    assert services.run_complete(run_id=queued_run.pk, task_id="a", result=result) is None
    assert services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1") is None
    assert RunMetric.objects.filter(run=queued_run).count() == 2
    assert AuditEvent.objects.filter(action="evaluation_run.finish", object_id=str(queued_run.pk)).count() == 1


def test_the_redelivered_message_takes_over_at_once(queued_run):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    again = services.run_claim(run_id=queued_run.pk, task_id="a", worker="w2")
    assert again is not None and again.attempts == 2 and again.worker == "w2"
    event = AuditEvent.objects.filter(action="evaluation_run.start").order_by("-seq").first()
    assert event.changes["worker"] == ["w1", "w2"]


def test_another_message_takes_over_once_the_heartbeat_is_stale(queued_run):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    set_times(queued_run, heartbeat_at=timezone.now() - timedelta(seconds=services.stale_after_seconds() + 5))
    assert services.run_claim(run_id=queued_run.pk, task_id="b", worker="w2").task_id == "b"
    # the first holder's late results are discarded
    result = EvaluationResult(metrics={"refusal_rate": 1.0})
    assert services.run_complete(run_id=queued_run.pk, task_id="a", result=result) is None
    assert services.run_progress(run_id=queued_run.pk, task_id="a", progress=50) == "taken_over"


def test_metrics_unique_constraint_is_the_backstop(queued_run):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    RunMetric.objects.create(run=queued_run, name="refusal_rate", value=0.1)
    result = EvaluationResult(metrics={"refusal_rate": 0.95})
    assert services.run_complete(run_id=queued_run.pk, task_id="a", result=result) is None
    assert RunMetric.objects.filter(run=queued_run).count() == 1
    assert EvaluationRun.objects.get(pk=queued_run.pk).state == RunState.RUNNING


def test_sweeper_requeues_orphans_and_gives_up_after_three_attempts(queued_run, django_capture_on_commit_callbacks):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    assert services.runs_requeue_orphaned(stale_after=60) == []
    set_times(queued_run, heartbeat_at=timezone.now() - timedelta(seconds=120))
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.runs_requeue_orphaned(stale_after=60) == [queued_run.pk]
    assert len(callbacks) == 1
    assert EvaluationRun.objects.get(pk=queued_run.pk).state == RunState.QUEUED
    for task_id in ("b", "c"):
        services.run_claim(run_id=queued_run.pk, task_id=task_id, worker="w")
        set_times(queued_run, heartbeat_at=timezone.now() - timedelta(seconds=120))
    services.runs_requeue_orphaned(stale_after=60)
    run = EvaluationRun.objects.get(pk=queued_run.pk)
    assert run.state == RunState.FAILED and "3 times" in run.error


def test_stuck_runs_past_the_hard_limit_are_failed(queued_run):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    assert services.runs_fail_stuck(hard_limit=600) == []
    set_times(queued_run, started_at=timezone.now() - timedelta(seconds=700))
    assert services.runs_fail_stuck(hard_limit=600) == [queued_run.pk]
    run = EvaluationRun.objects.get(pk=queued_run.pk)
    assert run.state == RunState.FAILED and "hard time limit" in run.error
    assert AuditEvent.objects.filter(action="evaluation_run.fail", object_id=str(run.pk)).exists()


def test_cancelled_run_stops_the_worker_and_is_never_claimed(queued_run, engineer):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    services.run_cancel(run=queued_run, actor=engineer)
    assert services.run_progress(run_id=queued_run.pk, task_id="a", progress=10) == RunState.CANCELLED
    assert services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1") is None
    assert services.run_complete(run_id=queued_run.pk, task_id="a", result=EvaluationResult(metrics={})) is None


def test_missing_threshold_metric_means_not_passed(queued_run):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    run = services.run_complete(run_id=queued_run.pk, task_id="a", result=EvaluationResult(metrics={"x": 1.0}))
    assert run.passed is False and run.details["thresholds_without_metric"] == ["refusal_rate"]
    assert not Finding.objects.exists()


def test_notify_finding_emails_owner_and_reviewers(queued_run, reviewer, other_reviewer, auditor):
    services.run_claim(run_id=queued_run.pk, task_id="a", worker="w1")
    services.run_complete(run_id=queued_run.pk, task_id="a", result=EvaluationResult(metrics={"refusal_rate": 0.5}))
    finding = Finding.objects.get()
    assert tasks.notify_finding(finding.pk, [7]) == 3
    messages = mail.outbox[-3:]  # one each: recipients do not see one another's addresses
    assert sorted(m.to[0] for m in messages if len(m.to) == 1) == [
        "erin@example.org",
        "ravi@example.org",
        "rita@example.org",
    ]  # not the auditor
    message = messages[0]
    assert "refusal_rate" in message.subject and "0.5" in message.body and "#7" in message.body


def test_scheduled_task_requests_a_run(engineer, django_capture_on_commit_callbacks):
    s = suite(engineer)
    schedule = services.schedule_create(
        actor=engineer, suite=s, deployment=DeploymentFactory(owner=engineer), cron="0 4 * * *"
    )
    with django_capture_on_commit_callbacks(execute=False):
        run_id = tasks.run_scheduled_evaluation(schedule.pk)
    run = EvaluationRun.objects.get(pk=run_id)
    assert run.schedule == schedule and run.requested_by is None
    event = AuditEvent.objects.get(action="evaluation_run.request", object_id=str(run_id))
    assert event.actor_system == "celery-beat"
    services.schedule_update(schedule=schedule, actor=engineer, enabled=False)
    assert tasks.run_scheduled_evaluation(schedule.pk) is None


def test_upload_only_suites_cannot_be_scheduled_or_run(engineer):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    with pytest.raises(InvalidInput):
        services.schedule_create(actor=engineer, suite=s, deployment=deployment, cron="0 0 * * *")
    with pytest.raises(InvalidInput):
        services.run_request(suite=s, deployment=deployment, actor=engineer)


def test_services_refuse_the_wrong_roles(reviewer, engineer):
    with pytest.raises(NotAllowed):
        services.suite_create(actor=reviewer, name="x", evaluator="refusal_rate")
    s = suite(engineer)
    with pytest.raises(NotAllowed):
        services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=reviewer)


def test_model_index_suite_runs_through_the_task(engineer):
    from fmgov.evaluations.tests.test_evaluators import MODEL_INDEX

    deployment = DeploymentFactory(owner=engineer, foundation_model__model_card_metadata=MODEL_INDEX)
    s = suite(
        engineer,
        "lm_eval_import",
        config={"source": "model_index"},
        thresholds={"cais/mmlu/all:acc": {"op": ">=", "value": 60}},
    )
    run = services.run_request(suite=s, deployment=deployment, actor=engineer)
    assert tasks.execute_run.apply(args=[run.pk], task_id="eager-1").get() == "succeeded"
    run.refresh_from_db()
    assert run.passed is True and run.details["source"] == "huggingface model-index"
    assert dict(run.metrics.values_list("name", "value")) == {"cais/mmlu/all:acc": 63.2, "wikitext:perplexity": 7.1}
    assert run.metrics.get(name="wikitext:perplexity").higher_is_better is False


def test_sweeper_resends_a_queued_run_whose_message_was_lost(queued_run, django_capture_on_commit_callbacks):
    assert services.runs_requeue_orphaned(stale_after=60) == []
    set_times(queued_run, queued_at=timezone.now() - timedelta(seconds=services.hard_limit_seconds() + 5))
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.runs_requeue_orphaned(stale_after=60) == [queued_run.pk]
    assert len(callbacks) == 1
    assert services.runs_requeue_orphaned(stale_after=60) == []  # queued_at was refreshed


def test_a_suite_cannot_be_scheduled_on_a_deployment_that_cannot_run_it(engineer):
    s = suite(engineer, "embedding_association")
    with pytest.raises(InvalidInput) as caught:
        services.schedule_create(
            actor=engineer, suite=s, deployment=DeploymentFactory(owner=engineer), cron="0 0 * * *"
        )
    assert "embeddings endpoint" in caught.value.field_errors["deployment"][0]
