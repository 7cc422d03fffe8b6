"""The evaluations demo seeds suites, schedules and a run history once; a second seed changes nothing."""

import io

import pytest

from fmgov.accounts import demo as accounts_demo
from fmgov.evaluations import demo
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.models import EvaluationRun, EvaluationSchedule, EvaluationSuite, RunMetric
from fmgov.findings.models import Finding
from fmgov.registry import demo as registry_demo


@pytest.mark.django_db
def test_seed_is_idempotent_and_shows_trends(django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=False):
        accounts_demo.seed(out)
        registry_demo.seed(out)
        demo.seed(out)
    counts = (EvaluationSuite.objects.count(), EvaluationSchedule.objects.count(), EvaluationRun.objects.count())
    assert counts == (len(demo.SUITES), len(demo.SCHEDULES), len(demo.SCHEDULES) * demo.HISTORY_WEEKS)
    assert not EvaluationRun.objects.exclude(state=RunState.SUCCEEDED).exists()
    with django_capture_on_commit_callbacks(execute=False):
        demo.seed(out)
    assert counts == (
        EvaluationSuite.objects.count(),
        EvaluationSchedule.objects.count(),
        EvaluationRun.objects.count(),
    )
    assert "0 suites, 0 schedules, 0 runs created" in out.getvalue()

    refusal = RunMetric.objects.filter(run__deployment__name="incident-triage", name="refusal_rate").order_by(
        "run__finished_at"
    )
    values = list(refusal.values_list("value", flat=True))
    assert len(values) == demo.HISTORY_WEEKS and values[0] > values[-1]
    open_findings = Finding.objects.filter(subject_label="incident-triage", state="open")
    assert open_findings.exists()  # the drift below 0.95 opened findings
    assert not Finding.objects.filter(subject_label="policy-assistant-prod", state="open").exists()
