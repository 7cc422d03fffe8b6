"""Latency, throughput and an estimate of inference energy for an embeddings endpoint.

Measured: wall-clock latency of each embeddings request (one batch of texts,
timed around the adapter's call; p50 and p95, nearest-rank, with intervals
and the sample minimums of latency_energy: p95 of fewer than 20 requests is
null and insufficient) and input tokens per second. Embeddings endpoints return no completion, and the adapters
report no token counts, so tokens are the whitespace-separated words of the
inputs (sub-word tokenisers give roughly 1.3 tokens per English word, so the
per-token figures lean high). One warm-up request is sent first and not
counted, so that loading a local model is not billed to its latency.

Estimated, not measured, exactly as latency_energy does:

    energy (Wh per 1,000 tokens) = accelerator_power_w x PUE x (1000 / throughput_tps) / 3600
    emissions (gCO2e per 1,000 tokens) = energy_Wh / 1000 x grid_intensity_gco2e_per_kwh

``throughput_tps`` is the configured throughput of the serving hardware when
given, else the measured per-request throughput times the concurrent streams
(configured, else implied by the deployment's declared traffic, else 1).
Defaults: 700 W at utilisation 1.0, PUE 1.2, 400 gCO2e/kWh; idle power, host
CPU, networking and embodied emissions are left out. The assumptions are returned with the figures.
"""

import math
import time

from fmgov.evaluations.evaluators.base import EvaluationContext, EvaluationResult, Evaluator, MetricSpec, sample_rows
from fmgov.evaluations.evaluators.latency_energy import (
    ENERGY_CONFIG_PROPERTIES,
    MIN_SAMPLES,
    energy_validate,
    timed_metrics,
)

DEFAULT_TEXTS = [
    "Staff may work remotely for up to three days a week with their manager's agreement.",
    "Access to production databases is approved by the security team and reviewed every quarter.",
    "Report a suspected data breach to the privacy office within 24 hours of discovering it.",
    "Expenses above 500 euros need a receipt and the approval of a budget holder.",
    "Laptops must use full-disk encryption and lock after five minutes of inactivity.",
    "Customer data may not leave the European Economic Area without a transfer assessment.",
    "New suppliers complete a security questionnaire before any contract is signed.",
    "Annual leave requests are made at least two weeks in advance through the HR portal.",
]


class EmbeddingLatencyEnergy(Evaluator):
    name = "embedding_latency_energy"
    description = (
        "Embeddings endpoint: p50/p95 latency, input tokens per second, estimated Wh and gCO2e per 1,000 tokens."
    )
    needs = "embeddings"
    metrics = {
        "latency_p50_s": MetricSpec(False, "median embeddings request latency (s)"),
        "latency_p95_s": MetricSpec(False, "95th percentile embeddings request latency (s)"),
        "tokens_per_second": MetricSpec(True, "input tokens (words) embedded per second per request"),
        "energy_wh_per_1k_tokens": MetricSpec(False, "estimated energy per 1,000 input tokens (Wh)"),
        "emissions_gco2e_per_1k_tokens": MetricSpec(False, "estimated emissions per 1,000 input tokens (gCO2e)"),
    }
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "texts": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            "repeats": {"type": "integer", "minimum": 1, "maximum": 100},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": 256},
            **ENERGY_CONFIG_PROPERTIES,
            "model_path": {"type": "string"},
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
    }

    def validate(self, config: dict) -> None:
        energy_validate(config)

    def run(self, context: EvaluationContext) -> EvaluationResult:
        config = context.config
        size = config.get("batch_size", 8)
        base = config.get("texts") or DEFAULT_TEXTS
        # By default send enough requests for the p95 reported (MIN_SAMPLES), not a p95 that is only the maximum.
        texts = base * (config.get("repeats") or max(4, math.ceil(MIN_SAMPLES * size / len(base))))
        batches = [texts[i : i + size] for i in range(0, len(texts), size)]
        context.adapter.embed(texts[:1])  # warm-up, not counted

        def embed(batch: list[str]) -> dict:
            started = time.perf_counter()
            vectors = context.adapter.embed(batch)
            latency = time.perf_counter() - started
            if len(vectors) != len(batch):
                raise ValueError(f"The endpoint returned {len(vectors)} vectors for {len(batch)} texts.")
            return {
                "texts": len(batch),
                "tokens": sum(len(text.split()) for text in batch),
                "dimensions": len(vectors[0]) if vectors else 0,
                "latency_s": latency,
                "first_text": batch[0],
            }

        rows = context.adapter.map(embed, batches, on_result=lambda done, _: context.progress(done / len(batches)))
        metrics, assumptions = timed_metrics(rows, config, context.deployment)
        return EvaluationResult(
            metrics=metrics,
            samples=sample_rows(rows, context.sample_size),
            details={
                "method": __doc__.strip(),
                "assumptions": {**assumptions, "token_count": "whitespace-separated words of the inputs"},
                "requests": len(batches),
                "texts": len(texts),
                "batch_size": size,
                "dimensions": rows[0]["dimensions"] if rows else 0,
            },
        )
