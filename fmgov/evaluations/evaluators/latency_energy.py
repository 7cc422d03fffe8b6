"""Latency, throughput and an estimate of inference energy and emissions.

Measured: wall-clock latency of each request's successful attempt (failed
tries and back-off sleeps are not latency; attempts and retried errors are
counted apart), p50 and p95 by nearest rank, and tokens per second
(completion tokens from the endpoint's ``usage``, else whitespace-separated
words, divided by the latency). A suite sends at least ``MIN_SAMPLES`` (20)
requests: p95 of fewer is merely the maximum.

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
reader can redo the sum with other numbers.
"""

import math
from typing import Any

from fmgov.evaluations.evaluators.base import EvaluationContext, EvaluationResult, Evaluator, MetricSpec, sample_rows

DEFAULT_PROMPTS = [
    "Summarise the main causes of the First World War in three sentences.",
    "Explain what a hash function is to a twelve-year-old.",
    "Write a haiku about autumn rain.",
    "List five tips for writing clear technical documentation.",
    "What is the difference between weather and climate?",
]


MIN_SAMPLES = 20  # nearest-rank p95 of fewer samples is the maximum


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# Shared with embedding_latency_energy: the same estimate from a measured throughput.
ENERGY_CONFIG_PROPERTIES = {
    "accelerator_power_w": {"type": "number", "exclusiveMinimum": 0},
    "throughput_tps": {"type": "number", "exclusiveMinimum": 0},
    "concurrent_streams": {"type": "integer", "minimum": 1},
    "utilisation": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
    "pue": {"type": "number", "minimum": 1, "maximum": 3},
    "grid_intensity_gco2e_per_kwh": {"type": "number", "minimum": 0},
}


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
    config: dict, measured_tps: float, *, deployment: Any = None, latency_s: float = 0.0
) -> tuple[dict[str, float], dict]:
    """Wh and gCO2e per 1,000 tokens, and the assumptions behind them, for the report to show."""
    power = config.get("accelerator_power_w", 700.0)
    utilisation = config.get("utilisation", 1.0)
    pue = config.get("pue", 1.2)
    grid = config.get("grid_intensity_gco2e_per_kwh", 400.0)
    streams, streams_source = implied_streams(config, deployment, latency_s)
    throughput = config.get("throughput_tps") or measured_tps * streams
    if throughput <= 0:
        raise ValueError("No tokens were measured, so there is no throughput to estimate energy from.")
    energy_wh = power * utilisation * pue * (1000 / throughput) / 3600
    assumptions = {
        "accelerator_power_w": power,
        "utilisation": utilisation,
        "pue": pue,
        "grid_intensity_gco2e_per_kwh": grid,
        "throughput_tps": throughput,
        "throughput_source": "configured" if config.get("throughput_tps") else "measured",
        "concurrent_streams": None if config.get("throughput_tps") else round(streams, 4),
        "concurrent_streams_source": None if config.get("throughput_tps") else streams_source,
        "excluded": ["idle power", "host CPU and memory", "networking", "embodied emissions"],
    }
    metrics = {"energy_wh_per_1k_tokens": energy_wh, "emissions_gco2e_per_1k_tokens": energy_wh / 1000 * grid}
    return metrics, assumptions


def timed_metrics(rows: list[dict], config: dict, deployment: Any = None) -> tuple[dict[str, float], dict]:
    """Latency percentiles, measured throughput and the energy estimate from timed rows (``latency_s``, ``tokens``)."""
    latencies = [r["latency_s"] for r in rows]
    measured_tps = sum(r["tokens"] for r in rows) / max(sum(latencies), 1e-9)
    mean_latency = sum(latencies) / len(latencies) if latencies else 0.0
    estimate, assumptions = energy_estimate(config, measured_tps, deployment=deployment, latency_s=mean_latency)
    metrics = {
        "latency_p50_s": percentile(latencies, 50),
        "latency_p95_s": percentile(latencies, 95),
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
        """p95 needs enough requests to be more than the maximum."""
        requests = len(config.get("prompts") or DEFAULT_PROMPTS) * config.get("repeats", 4)
        if requests < MIN_SAMPLES:
            raise ValueError(
                f"prompts x repeats is {requests} requests; p95 needs at least {MIN_SAMPLES} (raise repeats)."
            )

    def run(self, context: EvaluationContext) -> EvaluationResult:
        config = context.config
        self.validate(config)
        prompts = (config.get("prompts") or DEFAULT_PROMPTS) * config.get("repeats", 4)
        total = len(prompts)

        def ask(prompt):
            completion = context.adapter.chat(
                [{"role": "user", "content": prompt}], max_tokens=config.get("max_tokens", 128)
            )
            tokens = completion.completion_tokens or len(completion.text.split())
            return {
                "prompt": prompt,
                "output": completion.text,
                "latency_s": completion.latency_s,
                "tokens": tokens,
                "attempts": getattr(completion, "attempts", 1),
            }

        rows = context.adapter.map(ask, prompts, on_result=lambda done, _: context.progress(done / total))
        metrics, assumptions = timed_metrics(rows, config, context.deployment)
        attempts = sum(r["attempts"] for r in rows)
        return EvaluationResult(
            metrics=metrics,
            samples=sample_rows(rows, context.sample_size),
            details={
                "method": __doc__.strip(),
                "assumptions": assumptions,
                "requests": total,
                "attempts": attempts,
                "retried_errors": attempts - total,
            },
        )
