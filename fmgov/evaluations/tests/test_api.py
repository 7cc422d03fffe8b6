"""The evaluations API: validation 400s per field, role checks, 202 runs, cancel, findings, uploads, audit."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from audits.models import AuditEvent
from fmgov.evaluations import services
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.evaluators.base import EvaluationResult
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite
from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from fmgov.findings.models import Finding
from tests.data import REALWORLD_DIR

pytestmark = pytest.mark.django_db
LM_EVAL_DIR = REALWORLD_DIR / "lm-eval"
SUITES = "/api/v1/evaluation-suites/"
SCHEDULES = "/api/v1/evaluation-schedules/"
RUNS = "/api/v1/evaluation-runs/"
FINDINGS = "/api/v1/findings/"


def test_engineer_creates_a_suite_and_it_is_audited(engineer, client_for):
    body = {
        "name": "Harmful content",
        "evaluator": "refusal_rate",
        "config": {"categories": ["weapons", "fraud"]},
        "thresholds": {"refusal_rate": {"op": ">=", "value": 0.95}},
        "concurrency": 8,
    }
    response = client_for(engineer).post(SUITES, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] == "erin"
    suite = EvaluationSuite.objects.get(name="Harmful content")
    event = AuditEvent.objects.get(action="evaluation_suite.create")
    assert event.object_id == str(suite.pk) and event.actor_username == "erin"


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"evaluator": "nope"}, "evaluator", "not a valid choice"),
        ({"config": {"categories": ["astrology"]}}, "config", "categories/0"),
        ({"config": {"unknown_key": 1}}, "config", "unknown_key"),
        ({"config": []}, "config", "JSON object"),
        ({"thresholds": {"refusal_rate": {"op": "==", "value": 1}}}, "thresholds", "op must be one of"),
        ({"thresholds": {"refusal_rate": {"op": ">=", "value": "high"}}}, "thresholds", "finite number"),
        ({"thresholds": {"accuracy": {"op": ">=", "value": 0.5}}}, "thresholds", "no such metric"),
        ({"thresholds": {"refusal_rate": {"op": ">=", "value": 1, "severity": "dire"}}}, "thresholds", "severity"),
        ({"concurrency": 0}, "concurrency", "greater than or equal to 1"),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_suite_validation_is_a_400_per_field(engineer, client_for, body, field, fragment):
    payload = {"name": "S", "evaluator": "refusal_rate", **body}
    response = client_for(engineer).post(SUITES, payload, format="json")
    assert response.status_code == 400
    messages = response.json()[field]
    assert any(fragment in m for m in messages), messages
    assert not EvaluationSuite.objects.exists()
    assert not AuditEvent.objects.filter(action="evaluation_suite.create").exists()


def test_qa_suite_rejects_a_bad_jsonl_line(engineer, client_for):
    body = {
        "name": "QA",
        "evaluator": "qa_accuracy",
        "config": {"items_jsonl": '{"prompt": "a", "answer": "b"}\nnot json'},
    }
    response = client_for(engineer).post(SUITES, body, format="json")
    assert response.status_code == 400
    assert "line 2 is not JSON" in response.json()["config"][0]


def test_duplicate_suite_name_is_a_400(engineer, client_for):
    suite(engineer, name="Dup")
    response = client_for(engineer).post(SUITES, {"name": "Dup", "evaluator": "refusal_rate"}, format="json")
    assert response.status_code == 400 and "exists" in response.json()["name"][0]


@pytest.mark.parametrize("role_user", ["reviewer", "auditor"])
def test_reviewers_and_auditors_read_but_cannot_write(role_user, request, engineer, client_for):
    user = request.getfixturevalue(role_user)
    s = suite(engineer)
    client = client_for(user)
    assert client.get(SUITES).status_code == 200
    assert client.post(SUITES, {"name": "x", "evaluator": "refusal_rate"}, format="json").status_code == 403
    assert client.patch(f"{SUITES}{s.pk}/", {"concurrency": 2}, format="json").status_code == 403
    deployment = DeploymentFactory(owner=engineer)
    assert client.post(RUNS, {"suite": s.pk, "deployment": deployment.pk}, format="json").status_code == 403


def test_only_the_owner_or_an_admin_edits_a_suite(engineer, other_engineer, admin_user, client_for):
    s = suite(engineer)
    assert client_for(other_engineer).patch(f"{SUITES}{s.pk}/", {"concurrency": 2}, format="json").status_code == 403
    response = client_for(admin_user).patch(
        f"{SUITES}{s.pk}/", {"thresholds": {"refusal_rate": {"op": ">=", "value": 0.5}}}, format="json"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="evaluation_suite.update")
    assert event.changes["thresholds"][1] == {"refusal_rate": {"op": ">=", "value": 0.5}}


def test_evaluators_endpoint_lists_metrics_and_schemas(engineer, client_for):
    response = client_for(engineer).get(f"{SUITES}evaluators/")
    by_name = {e["name"]: e for e in response.json()}
    assert set(by_name) >= {
        "refusal_rate",
        "counterfactual_bias",
        "embedding_association",
        "qa_accuracy",
        "latency_energy",
        "lm_eval_import",
    }
    assert by_name["refusal_rate"]["metrics"]["over_refusal_rate"]["higher_is_better"] is False
    assert by_name["embedding_association"]["config_schema"]["type"] == "object"


def test_schedule_creates_updates_and_deletes_its_periodic_task(engineer, client_for):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=engineer)
    client = client_for(engineer)
    response = client.post(SCHEDULES, {"suite": s.pk, "deployment": deployment.pk, "cron": "15 3 * * 1"}, format="json")
    assert response.status_code == 201, response.json()
    schedule = EvaluationSchedule.objects.get()
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.task == "fmgov.evaluations.tasks.run_scheduled_evaluation"
    assert json.loads(task.kwargs) == {"schedule_id": schedule.pk}
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("15", "3", "1")
    assert task.enabled and task.queue == "evaluations"

    response = client.patch(f"{SCHEDULES}{schedule.pk}/", {"cron": "0 */6 * * *", "enabled": False}, format="json")
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("0", "*/6", False)

    assert client.delete(f"{SCHEDULES}{schedule.pk}/").status_code == 204
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="evaluation_schedule.").values_list("action", flat=True)
    )
    assert actions == ["evaluation_schedule.create", "evaluation_schedule.update", "evaluation_schedule.delete"]


@pytest.mark.parametrize(
    ("cron", "fragment"), [("* * *", "five fields"), ("61 * * * *", "Not a valid cron"), ("a b c d e", "Not a valid")]
)
def test_schedule_cron_validation(engineer, client_for, cron, fragment):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=engineer)
    response = client_for(engineer).post(
        SCHEDULES, {"suite": s.pk, "deployment": deployment.pk, "cron": cron}, format="json"
    )
    assert response.status_code == 400 and fragment in response.json()["cron"][0]
    assert not PeriodicTask.objects.filter(task="fmgov.evaluations.tasks.run_scheduled_evaluation").exists()


def test_schedule_on_someone_elses_deployment_is_refused(engineer, other_engineer, client_for):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=other_engineer)
    response = client_for(engineer).post(
        SCHEDULES, {"suite": s.pk, "deployment": deployment.pk, "cron": "0 0 * * *"}, format="json"
    )
    assert response.status_code == 403


def test_post_run_returns_202_and_queues_on_commit(engineer, client_for, django_capture_on_commit_callbacks):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=engineer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(engineer).post(RUNS, {"suite": s.pk, "deployment": deployment.pk}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["state"] == "queued" and body["progress"] == 0 and body["metrics"] == []
    assert body["thresholds"] == s.thresholds and body["timings"]["queued_at"]
    assert len(callbacks) == 1  # the task is sent once the request's transaction commits


def test_run_validation_400s(engineer, client_for):
    s = suite(engineer)
    client = client_for(engineer)
    response = client.post(RUNS, {"suite": 999, "deployment": "x"}, format="json")
    assert response.status_code == 400 and set(response.json()) >= {"suite", "deployment"}
    embeddings_suite = suite(engineer, "embedding_association")
    chat_only = DeploymentFactory(owner=engineer)
    response = client.post(RUNS, {"suite": embeddings_suite.pk, "deployment": chat_only.pk}, format="json")
    assert response.status_code == 400 and "needs an embeddings endpoint" in response.json()["deployment"][0]
    none_adapter = DeploymentFactory(owner=engineer, endpoint_adapter="none")
    response = client.post(RUNS, {"suite": s.pk, "deployment": none_adapter.pk}, format="json")
    assert response.status_code == 400


def test_cancel_a_queued_run_then_not_again(engineer, other_engineer, client_for):
    s = suite(engineer)
    run = services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)
    assert client_for(other_engineer).post(f"{RUNS}{run.pk}/cancel/").status_code == 403
    response = client_for(engineer).post(f"{RUNS}{run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert client_for(engineer).post(f"{RUNS}{run.pk}/cancel/").status_code == 409
    assert AuditEvent.objects.filter(action="evaluation_run.cancel", object_id=str(run.pk)).count() == 1


def test_run_list_query_count_is_constant(engineer, client_for, django_assert_max_num_queries):
    s = suite(engineer)
    for _ in range(5):
        run = services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)
        _finish(run, {"refusal_rate": 0.5, "over_refusal_rate": 0.1})
    client = client_for(engineer)
    with django_assert_max_num_queries(8):
        response = client.get(RUNS)
    assert response.json()["count"] == 5 and len(response.json()["results"][0]["metrics"]) == 2
    with django_assert_max_num_queries(8):
        client.get(FINDINGS)


def _finish(run, metrics):
    claimed = services.run_claim(run_id=run.pk, task_id="t-1", worker="test")
    return services.run_complete(run_id=claimed.pk, task_id="t-1", result=EvaluationResult(metrics=metrics))


def test_findings_acknowledge_and_resolve_by_role(engineer, reviewer, auditor, client_for):
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    deployment = DeploymentFactory(owner=engineer)
    run = services.run_request(suite=s, deployment=deployment, actor=engineer)
    _finish(run, {"refusal_rate": 0.4})
    finding = Finding.objects.get()
    response = client_for(auditor).get(FINDINGS, {"status": "open"})
    assert response.json()["count"] == 1
    assert response.json()["results"][0]["threshold"] == {"op": ">=", "value": 0.9}
    assert client_for(auditor).post(f"{FINDINGS}{finding.pk}/acknowledge/").status_code == 403
    assert client_for(engineer).post(f"{FINDINGS}{finding.pk}/acknowledge/", {"note": "looking"}).status_code == 200
    assert client_for(engineer).post(f"{FINDINGS}{finding.pk}/resolve/", {"note": "fixed"}).status_code == 403
    response = client_for(reviewer).post(f"{FINDINGS}{finding.pk}/resolve/", {"note": ""})
    assert response.status_code == 400 and "note" in response.json()
    response = client_for(reviewer).post(
        f"{FINDINGS}{finding.pk}/resolve/", {"note": "New system prompt; rerun passes."}
    )
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert response.json()["resolved_by"] == "rita"
    assert client_for(reviewer).post(f"{FINDINGS}{finding.pk}/acknowledge/").status_code == 409
    actions = list(
        AuditEvent.objects.filter(object_type="findings.finding").order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["finding.open", "finding.acknowledge", "finding.resolve"]


@pytest.mark.parametrize("path", sorted(LM_EVAL_DIR.glob("*.json")), ids=lambda p: p.name[:30])
def test_upload_each_lm_eval_results_file(engineer, client_for, path):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    with path.open("rb") as handle:
        response = client_for(engineer).post(
            f"{SUITES}{s.pk}/upload-results/", {"deployment": deployment.pk, "file": handle}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    run = EvaluationRun.objects.get(pk=response.json()["id"])
    assert run.state == RunState.SUCCEEDED and run.progress == 100
    data = json.loads(path.read_text())
    expected = 0
    for values in data["results"].values():
        expected += sum(
            1
            for key, value in values.items()
            if key != "alias" and isinstance(value, int | float) and "_stderr" not in key.split(",")[0]
        )
    assert run.metrics.count() == expected
    with_stderr = sum(
        1 for values in data["results"].values() for k, v in values.items() if "_stderr" in k and isinstance(v, float)
    )
    assert run.metrics.filter(ci_low__isnull=False, ci_high__isnull=False).count() == with_stderr > 0
    assert run.details["source"] == "lm-evaluation-harness" and run.details["config"] == data["config"]
    assert run.details["versions"] == data["versions"]
    assert AuditEvent.objects.filter(action="evaluation_run.import", object_id=str(run.pk)).exists()


def test_upload_rejects_non_results(engineer, client_for):
    s = suite(engineer, "lm_eval_import", config={"source": "upload"})
    deployment = DeploymentFactory(owner=engineer)
    client = client_for(engineer)
    response = client.post(
        f"{SUITES}{s.pk}/upload-results/", {"deployment": deployment.pk, "results": {"foo": 1}}, format="json"
    )
    assert response.status_code == 400 and "no 'results'" in response.json()["file"][0]
    response = client.post(f"{SUITES}{s.pk}/upload-results/", {"deployment": deployment.pk}, format="json")
    assert response.status_code == 400 and "file" in response.json()
    other = suite(engineer)
    response = client.post(
        f"{SUITES}{other.pk}/upload-results/",
        {"deployment": deployment.pk, "results": {"results": {"t": {"acc": 1}}}},
        format="json",
    )
    assert response.status_code == 400 and "suite" in response.json()
    assert not EvaluationRun.objects.exists()


def test_upload_threshold_breach_opens_a_finding(engineer, client_for):
    s = suite(
        engineer,
        "lm_eval_import",
        config={"source": "upload"},
        thresholds={"arc_easy:acc": {"op": ">=", "value": 0.8}, "arc_challenge:acc_norm": {"op": ">=", "value": 0.4}},
    )
    deployment = DeploymentFactory(owner=engineer)
    data = json.loads((LM_EVAL_DIR / "Qwen__Qwen2.5-1.5B_results_2025-03-03T00-05-12.300060.json").read_text())
    response = client_for(engineer).post(
        f"{SUITES}{s.pk}/upload-results/", {"deployment": deployment.pk, "results": data}, format="json"
    )
    assert response.status_code == 201
    metrics = {m["name"]: m for m in response.json()["metrics"]}
    assert metrics["arc_easy:acc"]["passed"] is False and metrics["arc_challenge:acc_norm"]["passed"] is True
    assert list(Finding.objects.values_list("detail__metric", flat=True)) == ["arc_easy:acc"]


def test_users_without_a_role_and_anonymous_clients_are_refused(make_user, client_for, api_client):
    nobody = make_user("nobody")
    for url in (SUITES, SCHEDULES, RUNS, FINDINGS):
        assert client_for(nobody).get(url).status_code == 403
        assert api_client.get(url).status_code in (401, 403)


@pytest.mark.parametrize("param", ["run", "deployment"])
@pytest.mark.parametrize("value", ["4.080092740672095e-144", "1.5", "x"])
def test_finding_filters_on_ids_take_whole_numbers_only(auditor, client_for, param, value):
    """Found by schemathesis: a decimal run id compared with the JSON detail was a 500."""
    response = client_for(auditor).get("/api/v1/findings/", {param: value})
    assert response.status_code == 400 and param in response.json()
