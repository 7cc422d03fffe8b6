"""Every metric carries its uncertainty: the interval helpers, bound-judged thresholds, inconclusive runs."""

import pytest
from django.urls import reverse

from fmgov.evaluations import selectors, services
from fmgov.evaluations.evaluators import get_evaluator, threshold_errors
from fmgov.evaluations.evaluators.base import (
    Estimate,
    EvaluationResult,
    as_estimate,
    bootstrap,
    bootstrap_mean,
    from_range,
    from_stderr,
    insufficient,
    wilson,
)
from fmgov.evaluations.models import RunMetric
from fmgov.evaluations.services.thresholds import threshold_judge
from fmgov.evaluations.tests.factories import DeploymentFactory, suite
from fmgov.findings.models import Finding


def test_wilson_interval_matches_the_textbook_values():
    none = wilson(0, 10)
    assert none.value == 0.0 and none.n == 10 and none.ci_low == 0.0
    assert none.ci_high == pytest.approx(0.2775, abs=1e-4)
    every = wilson(10, 10)
    assert every.ci_low == pytest.approx(0.7225, abs=1e-4) and every.ci_high == 1.0
    half = wilson(50, 100)
    assert (half.ci_low, half.ci_high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert wilson(0, 0).insufficient and wilson(0, 0).value is None


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    values = [0.1, 0.4, 0.35, 0.8, 0.2, 0.55, 0.6, 0.05, 0.3, 0.45]
    first, again = bootstrap_mean(values, seed=7), bootstrap_mean(values, seed=7)
    assert first == again
    assert first.ci_low < first.value < first.ci_high
    assert first.value == pytest.approx(0.38)
    assert bootstrap_mean([1.0]).insufficient  # one item has no sampling distribution
    # a paired statistic resamples whole items, so a constant difference has a zero-width interval
    pairs = [(x, x + 0.25) for x in values]
    gap = bootstrap(pairs, lambda ps: sum(b - a for a, b in ps) / len(ps), seed=1)
    assert gap.ci_low == pytest.approx(0.25) and gap.ci_high == pytest.approx(0.25)


def test_bootstrap_mean_of_few_distinct_values_matches_resampling_the_items():
    """0/1 scores draw each value's count directly; the interval is the one resampling items gives."""
    values = [1.0] * 140 + [0.0] * 60
    fast = bootstrap_mean(values, seed=3)
    items = bootstrap_mean([v + 1e-12 * i for i, v in enumerate(values)], seed=3)  # all distinct: items resampled
    assert fast.value == pytest.approx(0.7) and fast == bootstrap_mean(values, seed=3)
    assert (fast.ci_low, fast.ci_high) == pytest.approx((items.ci_low, items.ci_high), abs=0.015)
    half = 1.96 * (0.7 * 0.3 / 200) ** 0.5  # the normal interval, 0.0635
    assert (fast.ci_low, fast.ci_high) == pytest.approx((0.7 - half, 0.7 + half), abs=0.015)


def test_bootstrap_mean_of_thousands_of_items_resamples_in_small_blocks():
    import tracemalloc

    values = [((i * 7919) % 1000) / 1000 for i in range(5000)]
    tracemalloc.start()
    try:
        estimate = bootstrap_mean(values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # 2,000 x 5,000 indices at once would be 80 MB, their values another 80
    assert estimate.value == pytest.approx(0.4995) and estimate.ci_low < estimate.value < estimate.ci_high
    assert estimate.ci_high - estimate.ci_low == pytest.approx(2 * 1.96 * 0.2887 / 5000**0.5, rel=0.15)


def test_stderr_range_and_insufficient_helpers():
    est = from_stderr(0.6, 0.05, n=100)
    assert (est.ci_low, est.ci_high) == pytest.approx((0.502, 0.698), abs=1e-3)
    assert from_stderr(0.6, None).ci_low is None
    energy = from_range(2.0, 3.5, 1.0)
    assert (energy.ci_low, energy.ci_high) == (1.0, 3.5)
    p95 = insufficient(10, need=20, method="p95")
    assert p95.value is None and p95.insufficient and p95.n == 10
    assert as_estimate(0.3) == Estimate(0.3, None, None, None, "point")
    assert as_estimate(float("nan")).insufficient and as_estimate(None).insufficient


@pytest.mark.parametrize(
    "rule, expected",
    [
        ({"op": "<=", "value": 0.05}, True),  # the estimate 0.03 satisfies it
        ({"op": "<=", "value": 0.05, "on": "upper"}, False),  # its upper bound 0.09 does not
        ({"op": "<=", "value": 0.01, "on": "lower"}, True),  # the lower bound 0.005 still does
        ({"op": "<=", "value": 0.001, "on": "lower"}, False),  # even the lower bound fails
        (None, None),
    ],
)
def test_a_threshold_is_judged_on_the_bound_it_names(rule, expected):
    assert threshold_judge(rule, Estimate(0.03, 200, 0.005, 0.09)) is expected


def test_unjudgeable_metrics_get_no_verdict():
    assert threshold_judge({"op": "<=", "value": 1}, insufficient(3, need=20, method="p95")) is None
    assert threshold_judge({"op": "<=", "value": 1, "on": "upper"}, as_estimate(0.5)) is None


def test_threshold_validation_knows_on():
    evaluator = get_evaluator("refusal_rate")
    assert threshold_errors(evaluator, {"refusal_rate": {"op": ">=", "value": 0.9, "on": "lower"}}) == []
    errors = threshold_errors(evaluator, {"refusal_rate": {"op": ">=", "value": 0.9, "on": "middle"}})
    assert errors and "on must be" in errors[0]


@pytest.fixture
def claimed(engineer, django_capture_on_commit_callbacks):
    def make(thresholds):
        s = suite(engineer, thresholds=thresholds)
        with django_capture_on_commit_callbacks(execute=False):
            run = services.run_request(suite=s, deployment=DeploymentFactory(owner=engineer), actor=engineer)
        services.run_claim(run_id=run.pk, task_id="t", worker="w")
        return run

    return make


@pytest.mark.django_db
def test_an_upper_bound_threshold_breaches_where_the_estimate_would_pass(claimed, django_capture_on_commit_callbacks):
    run = claimed({"refusal_rate": {"op": ">=", "value": 0.9, "on": "lower"}})
    result = EvaluationResult(metrics={"refusal_rate": wilson(19, 20)})  # 0.95, lower bound 0.76
    with django_capture_on_commit_callbacks(execute=False):
        done = services.run_complete(run_id=run.pk, task_id="t", result=result)
    assert done.passed is False
    metric = RunMetric.objects.get(run=run)
    assert (metric.value, metric.n) == (0.95, 20) and metric.ci_low == pytest.approx(0.7639, abs=1e-4)
    finding = Finding.objects.get()
    assert "lower bound" in finding.title and finding.detail["ci_high"] == metric.ci_high


@pytest.mark.django_db
def test_an_insufficient_metric_makes_the_run_inconclusive_which_does_not_pass(claimed):
    run = claimed({"refusal_rate": {"op": ">=", "value": 0.9}})
    result = EvaluationResult(
        metrics={"refusal_rate": wilson(20, 20), "over_refusal_rate": insufficient(0, need=1, method="Wilson")}
    )
    done = services.run_complete(run_id=run.pk, task_id="t", result=result)
    assert done.passed is None and done.details["inconclusive_metrics"] == ["over_refusal_rate"]
    stored = RunMetric.objects.get(run=run, name="over_refusal_rate")
    assert stored.value is None and stored.insufficient
    assert selectors.latest_passing_run(suite=run.suite, deployment=run.deployment) is None
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_the_api_and_run_page_show_the_interval(claimed, engineer, client_for, client):
    run = claimed({"refusal_rate": {"op": ">=", "value": 0.5, "on": "lower"}})
    services.run_complete(run_id=run.pk, task_id="t", result=EvaluationResult(metrics={"refusal_rate": wilson(9, 10)}))
    body = client_for(engineer).get(f"/api/v1/evaluation-runs/{run.pk}/").json()
    (metric,) = body["metrics"]
    assert metric["n"] == 10 and metric["ci_low"] == pytest.approx(0.5958, abs=1e-4) and metric["passed"] is True
    assert metric["ci_high"] == pytest.approx(0.9821, abs=1e-4) and metric["method"] == "Wilson score interval"
    client.force_login(engineer)
    page = client.get(reverse("evaluations:run-progress", args=[run.pk])).content.decode()
    assert "0.5958 – 0.9821" in page and "(on the lower bound)" in page
