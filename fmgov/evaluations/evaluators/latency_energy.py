"""Latency, throughput and an estimate of inference energy and emissions.

Measured: wall-clock latency of each request's successful attempt (failed
tries and back-off sleeps are not latency; attempts and retried errors are
counted apart), p50 and p95 by nearest rank with a distribution-free 95%
interval from order statistics (the ranks a binomial count of samples below
the true percentile spans; a side with no rank far enough out is open, null),
and tokens per second (completion tokens from the endpoint's ``usage``, else
whitespace-separated words, divided by the latency; bootstrap interval over
requests). A percentile needs enough successful samples to mean anything:
p95 of fewer than ``MIN_SAMPLES`` (20) is merely the maximum, so its value is
then null and marked insufficient, and the run is inconclusive (which does not
pass a required suite); p50 needs ``MIN_SAMPLES_P50`` (5). A request that still
fails after the adapter's retries is recorded as an error (``error_rate``, Wilson
interval) and left out of the timings rather than failing the run; only when
every request fails does the run fail.

Estimated, not measured (the endpoint does not report power):

    energy (Wh per 1,000 tokens) = accelerator_power_w x utilisation x PUE x (1000 / throughput_tps) / 3600
    emissions (gCO2e per 1,000 tokens) = energy_Wh / 1000 x grid_intensity_gco2e_per_kwh

``throughput_tps`` is the configured accelerator throughput (tokens/s the
hardware sustains across its whole batch) when given, else the measured
per-request throughput times the concurrent streams: ``concurrent_streams``
when configured, else what the deployment's declared traffic implies by
Little's law (requests per second x seconds per request, at least 1), else 1
(an upper bound, said so in the assumptions). Defaults: 700 W (an H100 SXM's
TDP), utilisation 1.0 (the draw at full load, an upper bound), PUE 1.2, grid
400 gCO2e/kWh (roughly a world average); idle power, host CPU, networking and
embodied emissions are left out. All of it is returned with the figures so a
reader can redo the sum with other numbers. Power, utilisation, PUE and grid
intensity may each be stated as a number or as a ``[low, high]`` range (the
estimate then uses the midpoint); the energy and emissions intervals are the
range the stated assumptions and the throughput's interval span together, not
a sampling interval.
"""

import math
from typing import Any

from fmgov.evaluations.adapters.base import EndpointUnusable
from fmgov.evaluations.evaluators.base import (
    Estimate,
    EvaluationContext,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    bootstrap,
    from_range,
    insufficient,
    sample_rows,
    wilson,
)

DEFAULT_PROMPTS = [
    "Summarise the main causes of the First World War in three sentences.",
    "Explain what a hash function is to a twelve-year-old.",
    "Write a haiku about autumn rain.",
    "List five tips for writing clear technical documentation.",
    "What is the difference between weather and climate?",
]


MIN_SAMPLES = 20  # nearest-rank p95 of fewer samples is the maximum
MIN_SAMPLES_P50 = 5


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _binomial_quantile(n: int, p: float, level: float) -> int:
    """The smallest k with P(Binomial(n, p) <= k) >= level (log-space, exact for any n)."""
    total = 0.0
    for k in range(n + 1):
        log_pmf = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        log_pmf += k * math.log(p) + (n - k) * math.log1p(-p)
        total += math.exp(log_pmf)
        if total >= level:
            return k
    return n


def percentile_estimate(values: list[float], q: float, *, min_n: int) -> Estimate:
    """A nearest-rank percentile with its distribution-free interval, or insufficient below ``min_n`` samples.

    The sample q-quantile's interval is ``[x_(l), x_(u)]`` with ``l`` and ``u`` the binomial(n, q/100)
    2.5% and 97.5% quantiles (+1 above); latency is never negative, so an open lower side is 0, and an
    open upper side (too few samples beyond the percentile) is null, which an "on": "upper" rule cannot judge.
    """
    method = f"nearest-rank p{q:g}, order-statistic interval"
    n = len(values)
    if n < min_n:
        return insufficient(n, need=min_n, method=method)
    ordered = sorted(values)
    low_rank = _binomial_quantile(n, q / 100, 0.025)
    high_rank = _binomial_quantile(n, q / 100, 0.975) + 1
    low = ordered[low_rank - 1] if low_rank >= 1 else 0.0
    high = ordered[high_rank - 1] if high_rank <= n else None
    return Estimate(percentile(values, q), n, low, high, method if high is not None else f"{method} (open above)")


def _number_or_range(bounds: dict[str, Any]) -> dict[str, Any]:
    """A stated assumption: a number, or a ``[low, high]`` range of such numbers."""
    return {
        "oneOf": [
            {"type": "number", **bounds},
            {"type": "array", "items": {"type": "number", **bounds}, "minItems": 2, "maxItems": 2},
        ]
    }


# Shared with embedding_latency_energy: the same estimate from a measured throughput.
ENERGY_CONFIG_PROPERTIES = {
    "accelerator_power_w": _number_or_range({"exclusiveMinimum": 0}),
    "throughput_tps": {"type": "number", "exclusiveMinimum": 0},
    "concurrent_streams": {"type": "integer", "minimum": 1},
    "utilisation": _number_or_range({"exclusiveMinimum": 0, "maximum": 1}),
    "pue": _number_or_range({"minimum": 1, "maximum": 3}),
    "grid_intensity_gco2e_per_kwh": _number_or_range({"minimum": 0}),
}
DEFAULT_ASSUMPTIONS = {
    "accelerator_power_w": 700.0,
    "utilisation": 1.0,
    "pue": 1.2,
    "grid_intensity_gco2e_per_kwh": 400.0,
}


def _assumption(config: dict, key: str) -> tuple[float, float, float]:
    """(estimate, low, high) of a stated assumption: a number is its own range, a range gives its midpoint."""
    stated = config.get(key, DEFAULT_ASSUMPTIONS[key])
    if isinstance(stated, list):
        low, high = sorted(stated)
        return (low + high) / 2, low, high
    return stated, stated, stated


def energy_validate(config: dict) -> None:
    """A range is stated low to high, so a reader sees which end is which."""
    for key in DEFAULT_ASSUMPTIONS:
        stated = config.get(key)
        if isinstance(stated, list) and stated[0] > stated[1]:
            raise ValueError(f"{key}: a range is [low, high]; {stated[0]} > {stated[1]}.")


def implied_streams(config: dict, deployment: Any, latency_s: float) -> tuple[float, str]:
    """Concurrent streams sharing the accelerator, and where the figure comes from."""
    if config.get("concurrent_streams"):
        return float(config["concurrent_streams"]), "configured"
    per_day = getattr(deployment, "expected_requests_per_day", None)
    if per_day and latency_s > 0:
        # Little's law: requests in flight = arrival rate x time in the system.
        return max(1.0, per_day / 86400 * latency_s), "declared traffic (Little's law, at least 1)"
    return 1.0, "none declared: one stream bears the whole accelerator (an upper bound)"


def energy_estimate(
    config: dict, measured_tps: Estimate | float, *, deployment: Any = None, latency_s: float = 0.0
) -> tuple[dict[str, Estimate], dict]:
    """Wh and gCO2e per 1,000 tokens with the range their assumptions span, and the assumptions, for the report."""
    tps = measured_tps if isinstance(measured_tps, Estimate) else Estimate(float(measured_tps))
    power, utilisation, pue, grid = (_assumption(config, key) for key in DEFAULT_ASSUMPTIONS)
    streams, streams_source = implied_streams(config, deployment, latency_s)
    if config.get("throughput_tps"):
        throughput = (config["throughput_tps"],) * 3
    else:
        measured = (tps.value or 0.0, tps.ci_low or tps.value or 0.0, tps.ci_high or tps.value or 0.0)
        throughput = tuple(t * streams for t in measured)
    if min(throughput) <= 0:
        raise ValueError("No tokens were measured, so there is no throughput to estimate energy from.")
    # (estimate, low, high): the lowest energy has the lowest power, utilisation and PUE and the highest throughput.
    pairs = ((0, 0), (1, 2), (2, 1))
    energy = [power[i] * utilisation[i] * pue[i] * (1000 / throughput[j]) / 3600 for i, j in pairs]
    emissions = [energy[i] / 1000 * grid[i] for i in range(3)]
    method = "range of the stated assumptions"
    if not config.get("throughput_tps"):
        method += " and the throughput interval"
    assumptions = {
        "accelerator_power_w": config.get("accelerator_power_w", power[0]),
        "utilisation": config.get("utilisation", utilisation[0]),
        "pue": config.get("pue", pue[0]),
        "grid_intensity_gco2e_per_kwh": config.get("grid_intensity_gco2e_per_kwh", grid[0]),
        "throughput_tps": throughput[0],
        "throughput_source": "configured" if config.get("throughput_tps") else "measured",
        "concurrent_streams": None if config.get("throughput_tps") else round(streams, 4),
        "concurrent_streams_source": None if config.get("throughput_tps") else streams_source,
        "excluded": ["idle power", "host CPU and memory", "networking", "embodied emissions"],
    }
    metrics = {
        "energy_wh_per_1k_tokens": from_range(*energy, method=method),
        "emissions_gco2e_per_1k_tokens": from_range(*emissions, method=method),
    }
    return metrics, assumptions


def _throughput(rows: list[dict]) -> float:
    return sum(r["tokens"] for r in rows) / max(sum(r["latency_s"] for r in rows), 1e-9)


def timed_metrics(rows: list[dict], config: dict, deployment: Any = None) -> tuple[dict[str, Estimate], dict]:
    """Latency percentiles, measured throughput and the energy estimate from timed rows (``latency_s``, ``tokens``).

    Rows are the successful requests only: a failed one never reaches here, so ``n`` counts successes.
    """
    latencies = [r["latency_s"] for r in rows]
    if len(rows) >= 2:
        measured_tps = bootstrap(rows, _throughput, reps=1000, method="tokens / seconds, bootstrap over requests")
    else:
        measured_tps = Estimate(_throughput(rows), len(rows), method="tokens / seconds (one request: no interval)")
    mean_latency = sum(latencies) / len(latencies) if latencies else 0.0
    estimate, assumptions = energy_estimate(config, measured_tps, deployment=deployment, latency_s=mean_latency)
    metrics = {
        "latency_p50_s": percentile_estimate(latencies, 50, min_n=MIN_SAMPLES_P50),
        "latency_p95_s": percentile_estimate(latencies, 95, min_n=MIN_SAMPLES),
        "tokens_per_second": measured_tps,
        **estimate,
    }
    return metrics, assumptions


class LatencyEnergy(Evaluator):
    name = "latency_energy"
    description = "p50/p95 latency, tokens per second, and estimated Wh and gCO2e per 1,000 tokens."
    needs = "chat"
    metrics = {
        "latency_p50_s": MetricSpec(False, "median request latency (s)"),
        "latency_p95_s": MetricSpec(False, "95th percentile request latency (s)"),
        "tokens_per_second": MetricSpec(True, "completion tokens per second per request"),
        "energy_wh_per_1k_tokens": MetricSpec(False, "estimated energy per 1,000 tokens (Wh)"),
        "emissions_gco2e_per_1k_tokens": MetricSpec(False, "estimated emissions per 1,000 tokens (gCO2e)"),
        "error_rate": MetricSpec(False, "share of requests still failing after retries (Wilson interval)"),
    }
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "prompts": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            "repeats": {"type": "integer", "minimum": 1, "maximum": 100},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            **ENERGY_CONFIG_PROPERTIES,
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
    }

    def validate(self, config: dict) -> None:
        energy_validate(config)

    def run(self, context: EvaluationContext) -> EvaluationResult:
        """Fewer than ``MIN_SAMPLES`` requests is a valid suite: its p95 comes back insufficient, the run
        inconclusive."""
        config = context.config
        prompts = (config.get("prompts") or DEFAULT_PROMPTS) * config.get("repeats", 4)
        total = len(prompts)
        tries = getattr(getattr(context.adapter, "retry", None), "attempts", 1)

        def ask(prompt):
            try:
                completion = context.adapter.chat(
                    [{"role": "user", "content": prompt}], max_tokens=config.get("max_tokens", 128)
                )
            except EndpointUnusable as exc:  # retries exhausted: an error to count, not a latency
                return {"prompt": prompt, "error": str(exc)[:300], "attempts": tries}
            tokens = completion.completion_tokens or len(completion.text.split())
            return {
                "prompt": prompt,
                "output": completion.text,
                "latency_s": completion.latency_s,
                "tokens": tokens,
                "attempts": getattr(completion, "attempts", 1),
            }

        results = context.adapter.map(ask, prompts, on_result=lambda done, _: context.progress(done / total))
        rows = [r for r in results if "error" not in r]
        failed = [r for r in results if "error" in r]
        if not rows:
            raise EndpointUnusable(f"Every one of the {total} requests failed; the first: {failed[0]['error']}")
        metrics, assumptions = timed_metrics(rows, config, context.deployment)
        metrics["error_rate"] = wilson(len(failed), total)
        attempts = sum(r["attempts"] for r in results)
        return EvaluationResult(
            metrics=metrics,
            samples=sample_rows(rows, context.sample_size) + failed[:3],
            details={
                "method": __doc__.strip(),
                "assumptions": assumptions,
                "requests": total,
                "attempts": attempts,
                "retried_errors": attempts - len(rows),  # every attempt but each success's last
                "successful_samples": len(rows),
                "failed_requests": len(failed),
            },
        )
