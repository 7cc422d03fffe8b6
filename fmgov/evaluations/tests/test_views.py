"""Evaluation pages: suites, schedules, run now, the polled run page, trend charts, refusals, constant queries."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fmgov.evaluations import services
from fmgov.evaluations.evaluators import EvaluationResult
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite
from fmgov.evaluations.selectors import findings_for_run
from fmgov.evaluations.tests.factories import DeploymentFactory, suite

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _finish(run, metrics):
    claimed = services.run_claim(run_id=run.pk, task_id="t-1", worker="test")
    return services.run_complete(run_id=claimed.pk, task_id="t-1", result=EvaluationResult(metrics=metrics))


def test_engineer_creates_a_suite_and_bad_json_is_a_field_error(web, engineer):
    client = web(engineer)
    response = client.post(
        reverse("evaluations:suite-create"),
        {"name": "Refusals", "evaluator": "refusal_rate", "config": "{", "thresholds": "", "concurrency": 2},
    )
    assert response.status_code == 200 and "Not valid JSON" in response.content.decode()
    response = client.post(
        reverse("evaluations:suite-create"),
        {
            "name": "Refusals",
            "evaluator": "refusal_rate",
            "config": "{}",
            "thresholds": '{"refusal_rate": {"op": ">=", "value": 0.9}}',
            "concurrency": 2,
        },  # fmt: skip
    )
    assert response.status_code == 302
    assert EvaluationSuite.objects.get(name="Refusals").thresholds == {"refusal_rate": {"op": ">=", "value": 0.9}}


def test_service_refusal_of_a_suite_is_shown(web, engineer):
    response = web(engineer).post(
        reverse("evaluations:suite-create"),
        {
            "name": "Bad",
            "evaluator": "refusal_rate",
            "thresholds": '{"refusal_rate": {"op": "~", "value": 1}}',
            "concurrency": 2,
        },  # fmt: skip
    )
    assert response.status_code == 200 and messages_of(response)
    assert not EvaluationSuite.objects.filter(name="Bad").exists()


def test_auditor_cannot_create_and_sees_no_forms(web, auditor):
    assert web(auditor).post(reverse("evaluations:suite-create"), {"name": "x"}).status_code == 403
    page = web(auditor).get(reverse("evaluations:index")).content.decode()
    assert "Run now" not in page and "Create a suite" not in page


def test_schedule_create_and_toggle(web, engineer):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=engineer)
    client = web(engineer)
    response = client.post(
        reverse("evaluations:schedule-create"),
        {
            "schedule-suite": s.pk,
            "schedule-deployment": deployment.pk,
            "schedule-cron": "0 3 * * *",
            "schedule-enabled": "on",
        },  # fmt: skip
    )
    assert response.status_code == 302
    schedule = EvaluationSchedule.objects.get()
    assert schedule.enabled
    client.post(reverse("evaluations:schedule-toggle", args=[schedule.pk]))
    schedule.refresh_from_db()
    assert not schedule.enabled
    response = client.post(
        reverse("evaluations:schedule-create"),
        {"schedule-suite": s.pk, "schedule-deployment": deployment.pk, "schedule-cron": "61 * * * *"},
    )
    assert response.status_code == 200 and messages_of(response)


def test_run_now_and_the_polled_progress_fragment(web, engineer):
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    deployment = DeploymentFactory(owner=engineer)
    client = web(engineer)
    response = client.post(reverse("evaluations:run-now"), {"run-suite": s.pk, "run-deployment": deployment.pk})
    run = EvaluationRun.objects.get()
    assert response["Location"] == reverse("evaluations:run-detail", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "<progress" in page and "Cancel the run" in page
    _finish(run, {"refusal_rate": 0.5})
    fragment = client.get(reverse("evaluations:run-progress", args=[run.pk])).content.decode()
    assert "hx-trigger" not in fragment and "threshold breached" in fragment and "refusal_rate" in fragment
    deployment_page = client.get(reverse("registry:deployment-detail", args=[deployment.pk])).content.decode()
    assert '<svg class="trend"' in deployment_page and 'class="threshold"' in deployment_page
    assert 'class="point fail"' in deployment_page
    dashboard = client.get("/")
    assert [r.pk for r in dashboard.context["evaluations"]["failing_runs"]] == [run.pk]
    assert len(dashboard.context["evaluations"]["open_findings"]) == 1


def test_run_now_on_an_unsuitable_deployment_is_refused(web, engineer):
    s = suite(engineer)
    deployment = DeploymentFactory(owner=engineer, endpoint_adapter="none")
    response = web(engineer).post(reverse("evaluations:run-now"), {"run-suite": s.pk, "run-deployment": deployment.pk})
    assert response.status_code == 200
    assert any("cannot run this suite" in m for m in messages_of(response))
    assert "needs a chat endpoint" in response.content.decode()
    assert not EvaluationRun.objects.exists()


def test_cancel_by_someone_else_is_refused(web, engineer, other_engineer):
    s = suite(engineer)
    run = services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)
    response = web(other_engineer).post(reverse("evaluations:run-cancel", args=[run.pk]))
    assert any("may cancel it" in m for m in messages_of(response))
    run.refresh_from_db()
    assert run.state == "queued"


def test_finding_acknowledge_from_the_deployment_page(web, engineer):
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    deployment = DeploymentFactory(owner=engineer)
    run = services.run_request(suite=s, deployment=deployment, actor=engineer)
    _finish(run, {"refusal_rate": 0.1})
    finding = findings_for_run(run).get()
    detail = reverse("registry:deployment-detail", args=[deployment.pk])
    response = web(engineer).post(
        reverse("evaluations:finding-action", args=[finding.pk, "acknowledge"]), {"next": detail}
    )
    assert response["Location"] == detail
    finding.refresh_from_db()
    assert finding.state == "acknowledged"
    response = web(engineer).post(
        reverse("evaluations:finding-action", args=[finding.pk, "resolve"]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("evaluations:index")


def test_index_and_deployment_page_queries_are_constant(web, engineer, django_assert_max_num_queries):
    s = suite(engineer, thresholds={"refusal_rate": {"op": ">=", "value": 0.9}})
    deployment = DeploymentFactory(owner=engineer)
    client = web(engineer)

    def grow(n):
        for _ in range(n):
            _finish(services.run_request(suite=s, deployment=deployment, actor=engineer), {"refusal_rate": 0.95})

    grow(1)
    client.get(reverse("evaluations:index"))
    for url, limit in (
        (reverse("evaluations:index"), 14),
        (reverse("registry:deployment-detail", args=[deployment.pk]), 18),
    ):
        with django_assert_max_num_queries(limit):
            client.get(url)
    grow(8)
    for url, limit in (
        (reverse("evaluations:index"), 14),
        (reverse("registry:deployment-detail", args=[deployment.pk]), 18),
    ):
        with django_assert_max_num_queries(limit):
            response = client.get(url)
    assert response.content.decode().count('class="point') == 9
