"""latency_energy: successful attempts timed alone, enough samples for p95, streams from declared traffic (issue 17)."""

import pytest

from fmgov.evaluations import selectors, services
from fmgov.evaluations.adapters import EndpointConfig, EndpointUnusable, RetryPolicy, build_adapter
from fmgov.evaluations.evaluators import EvaluationContext, config_errors, get_evaluator
from fmgov.evaluations.evaluators.latency_energy import MIN_SAMPLES, implied_streams, percentile_estimate
from fmgov.evaluations.models import RunMetric
from fmgov.evaluations.testing.fake_openai import Behaviour
from fmgov.evaluations.tests.factories import chat_deployment, suite


class Declared:
    """The deployment fields the estimate reads."""

    def __init__(self, per_day):
        self.expected_requests_per_day = per_day


def latency_run(server, config, deployment=None):
    adapter = build_adapter("openai_chat", EndpointConfig(base_url=server.base_url, model="m", concurrency=1))
    adapter.retry = RetryPolicy(attempts=4, base_delay_s=0.01)
    with adapter:
        return get_evaluator("latency_energy").run(
            EvaluationContext(config=config, adapter=adapter, deployment=deployment)
        )


def test_failed_attempts_are_counted_not_timed(fake_openai):
    fake_openai.behaviour = Behaviour(delay_s=0.1, fail_first=2, fail_status=503)
    result = latency_run(fake_openai, {"prompts": ["a"], "repeats": 20})
    assert result.details["requests"] == 20 and result.details["attempts"] == 22
    assert result.details["retried_errors"] == 2 and fake_openai.stats[503] == 2
    # The first request took three tries of 0.1 s each; only the successful one is its latency.
    assert 0.1 <= result.metrics["latency_p95_s"].value < 0.25 and result.metrics["latency_p95_s"].n == 20
    first = next(s for s in result.samples if s["attempts"] == 3)
    assert 0.1 <= first["latency_s"] < 0.25


@pytest.mark.django_db
def test_p95_of_fewer_than_twenty_is_insufficient_and_the_run_inconclusive(fake_openai, engineer):
    evaluator = get_evaluator("latency_energy")
    config = {"prompts": ["a", "b"], "repeats": 9}
    assert config_errors(evaluator, config) == [], "a small suite is valid; its p95 is what cannot be claimed"
    result = latency_run(fake_openai, config)
    p95, p50 = result.metrics["latency_p95_s"], result.metrics["latency_p50_s"]
    assert (p95.value, p95.n, p95.insufficient) == (None, 18, True)
    assert f"insufficient: n=18 < {MIN_SAMPLES}" in p95.method
    assert p50.value is not None and p50.n == 18 and result.details["successful_samples"] == 18

    s = suite(engineer, "latency_energy", config=config, thresholds={"latency_p95_s": {"op": "<=", "value": 10}})
    run = services.run_request(suite=s, deployment=chat_deployment(engineer, fake_openai.base_url), actor=engineer)
    services.run_claim(run_id=run.pk, task_id="t", worker="w")
    done = services.run_complete(run_id=run.pk, task_id="t", result=result)
    assert done.passed is None and "latency_p95_s" in done.details["inconclusive_metrics"]
    stored = RunMetric.objects.get(run=run, name="latency_p95_s")
    assert stored.value is None and stored.insufficient and stored.passed is None
    assert selectors.latest_passing_run(suite=s, deployment=run.deployment) is None, "no pass for a required suite"


def test_percentile_intervals_come_from_order_statistics():
    values = [float(i) for i in range(1, 101)]  # 1..100
    p50 = percentile_estimate(values, 50, min_n=5)
    assert p50.value == 50 and (p50.ci_low, p50.ci_high) == (40.0, 61.0)  # binomial(100, 0.5) 2.5% / 97.5% ranks
    p95 = percentile_estimate(values, 95, min_n=20)
    assert p95.value == 95 and p95.ci_low == 90.0 and p95.ci_high == 100.0
    open_above = percentile_estimate(values[:30], 95, min_n=20)
    assert open_above.value == 29 and open_above.ci_high is None and "open above" in open_above.method
    assert percentile_estimate(values[:19], 95, min_n=20).insufficient


def test_streams_come_from_declared_traffic(fake_openai):
    # 864,000 requests a day = 10 per second; at 2 s each, 20 are in flight (Little's law).
    assert implied_streams({}, Declared(864_000), 2.0) == (20.0, "declared traffic (Little's law, at least 1)")
    assert implied_streams({}, Declared(100), 2.0)[0] == 1.0, "a quiet deployment still bears one stream"
    assert implied_streams({"concurrent_streams": 4}, Declared(864_000), 2.0) == (4.0, "configured")
    assert "upper bound" in implied_streams({}, None, 2.0)[1]

    fake_openai.behaviour = Behaviour(delay_s=0.01)
    config = {"prompts": ["a"], "repeats": 20, "utilisation": 0.5}
    alone = latency_run(fake_openai, config)
    busy = latency_run(fake_openai, config, deployment=Declared(86_400_000))  # 1,000 requests a second
    streams = busy.details["assumptions"]["concurrent_streams"]
    assert streams > 5 and alone.details["assumptions"]["concurrent_streams"] == 1
    assert busy.details["assumptions"]["utilisation"] == 0.5
    tps = busy.metrics["tokens_per_second"]
    energy = busy.metrics["energy_wh_per_1k_tokens"]
    assert energy.value == pytest.approx(700 * 0.5 * 1.2 * 1000 / (tps.value * streams) / 3600, rel=1e-3)
    # The throughput's bootstrap interval spans the energy range (fewer tokens a second, more energy a token).
    assert energy.ci_low == pytest.approx(700 * 0.5 * 1.2 * 1000 / (tps.ci_high * streams) / 3600, rel=1e-3)
    assert energy.ci_high == pytest.approx(700 * 0.5 * 1.2 * 1000 / (tps.ci_low * streams) / 3600, rel=1e-3)
    assert "throughput interval" in energy.method


def test_energy_range_spans_the_stated_assumptions(fake_openai):
    evaluator = get_evaluator("latency_energy")
    [error] = config_errors(evaluator, {"pue": [1.5, 1.1]})
    assert "a range is [low, high]" in error
    assert config_errors(evaluator, {"utilisation": [0.2, 1.5]}), "each end within the assumption's bounds"
    fake_openai.behaviour = Behaviour(delay_s=0.001)
    config = {"prompts": ["a"], "repeats": 20, "throughput_tps": 1000, "accelerator_power_w": [300, 700],
              "utilisation": [0.5, 1.0], "pue": 1.2, "grid_intensity_gco2e_per_kwh": [100, 500]}  # fmt: skip
    result = latency_run(fake_openai, config)
    energy, emissions = result.metrics["energy_wh_per_1k_tokens"], result.metrics["emissions_gco2e_per_1k_tokens"]
    assert energy.value == pytest.approx(500 * 0.75 * 1.2 / 3600)  # midpoints, 1 s per 1,000 tokens
    assert (energy.ci_low, energy.ci_high) == (pytest.approx(300 * 0.5 * 1.2 / 3600), pytest.approx(700 * 1.2 / 3600))
    assert emissions.ci_low == pytest.approx(energy.ci_low / 1000 * 100)
    assert emissions.ci_high == pytest.approx(energy.ci_high / 1000 * 500)
    assert emissions.method == "range of the stated assumptions"
    assert result.details["assumptions"]["accelerator_power_w"] == [300, 700]


def test_requests_failing_after_retries_are_errors_not_latencies(fake_openai):
    # Every 2nd request answers 500 and there is no retry: half the requests fail for good.
    fake_openai.behaviour = Behaviour(delay_s=0.001, fail_every=2, fail_status=500)
    adapter = build_adapter("openai_chat", EndpointConfig(base_url=fake_openai.base_url, model="m", concurrency=1))
    adapter.retry = RetryPolicy(attempts=1, base_delay_s=0.01)
    with adapter:
        result = get_evaluator("latency_energy").run(
            EvaluationContext(config={"prompts": ["a"], "repeats": 24}, adapter=adapter)
        )
    errors = result.metrics["error_rate"]
    assert (errors.value, errors.n) == (0.5, 24) and errors.ci_low < 0.5 < errors.ci_high
    assert result.details["successful_samples"] == result.details["failed_requests"] == 12
    assert result.metrics["latency_p95_s"].insufficient, "12 successes: p95 not claimed"
    assert result.metrics["latency_p50_s"].n == 12 and result.details["retried_errors"] == 12
    assert "500" in next(s for s in result.samples if "error" in s)["error"]

    fake_openai.behaviour = Behaviour(always_status=500)
    with pytest.raises(EndpointUnusable, match="Every one of the 20 requests failed"):
        latency_run(fake_openai, {"prompts": ["a"], "repeats": 20})
