"""latency_energy: successful attempts timed alone, enough samples for p95, streams from declared traffic (issue 17)."""

import pytest

from fmgov.evaluations.adapters import EndpointConfig, RetryPolicy, build_adapter
from fmgov.evaluations.evaluators import EvaluationContext, config_errors, get_evaluator
from fmgov.evaluations.evaluators.latency_energy import MIN_SAMPLES, implied_streams
from fmgov.evaluations.testing.fake_openai import Behaviour


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
    assert 0.1 <= result.metrics["latency_p95_s"] < 0.25
    first = next(s for s in result.samples if s["attempts"] == 3)
    assert 0.1 <= first["latency_s"] < 0.25


def test_p95_needs_twenty_requests():
    evaluator = get_evaluator("latency_energy")
    [error] = config_errors(evaluator, {"prompts": ["a", "b"], "repeats": 9})
    assert f"p95 needs at least {MIN_SAMPLES}" in error
    assert config_errors(evaluator, {"prompts": ["a", "b"], "repeats": 10}) == []
    assert config_errors(evaluator, {}) == [], "the defaults send 5 prompts x 4"


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
    assert busy.metrics["energy_wh_per_1k_tokens"] == pytest.approx(
        700 * 0.5 * 1.2 * 1000 / (tps * streams) / 3600, rel=1e-3
    )
