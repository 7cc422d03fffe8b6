"""The evaluator registry, keyed by name, and config/threshold validation against it."""

import math
from typing import Any

import jsonschema

from fmgov.evaluations.choices import THRESHOLD_BOUNDS, THRESHOLD_OPS, Severity
from fmgov.evaluations.evaluators.base import Estimate, EvaluationContext, EvaluationResult, Evaluator, MetricSpec
from fmgov.evaluations.evaluators.counterfactual_bias import CounterfactualBias
from fmgov.evaluations.evaluators.embedding_association import EmbeddingAssociation
from fmgov.evaluations.evaluators.embedding_latency_energy import EmbeddingLatencyEnergy
from fmgov.evaluations.evaluators.latency_energy import LatencyEnergy
from fmgov.evaluations.evaluators.lm_eval_import import LmEvalImport
from fmgov.evaluations.evaluators.prompt_injection import PromptInjection
from fmgov.evaluations.evaluators.qa_accuracy import QAAccuracy
from fmgov.evaluations.evaluators.refusal_rate import RefusalRate

__all__ = [
    "REGISTRY",
    "Evaluator",
    "EvaluationContext",
    "EvaluationResult",
    "Estimate",
    "MetricSpec",
    "get_evaluator",
    "register",
    "config_errors",
    "threshold_errors",
]

REGISTRY: dict[str, Evaluator] = {}


def register(evaluator: Evaluator) -> Evaluator:
    REGISTRY[evaluator.name] = evaluator
    return evaluator


for _cls in (
    RefusalRate,
    CounterfactualBias,
    EmbeddingAssociation,
    QAAccuracy,
    LatencyEnergy,
    EmbeddingLatencyEnergy,
    LmEvalImport,
    PromptInjection,
):
    register(_cls())


def get_evaluator(name: str) -> Evaluator:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown evaluator {name!r}; known: {', '.join(sorted(REGISTRY))}")


def config_errors(evaluator: Evaluator, config: Any) -> list[str]:
    """Messages for a config that does not satisfy the evaluator's JSON schema (empty = valid)."""
    if not isinstance(config, dict):
        return ["must be a JSON object."]
    validator = jsonschema.Draft202012Validator(evaluator.config_schema)
    errors = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path)
        errors.append(f"{where}: {error.message}" if where else error.message)
    if not errors and hasattr(evaluator, "validate"):
        try:
            evaluator.validate(config)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def threshold_errors(evaluator: Evaluator, thresholds: Any) -> list[str]:
    """Thresholds are ``{metric: {"op": ">="|"<="|">"|"<", "value": number, "on"?: str, "severity"?: str}}``.

    ``on`` ("upper" or "lower") names the bound of the metric's 95% interval the rule is judged on
    (``fmgov.evaluations.services.thresholds``); without it the estimate is judged.
    """
    if not isinstance(thresholds, dict):
        return ['must be an object {metric: {"op": ..., "value": ...}}.']
    errors = []
    for metric, rule in thresholds.items():
        if not evaluator.dynamic_metrics and metric not in evaluator.metrics:
            errors.append(
                f"{metric}: {evaluator.name} reports no such metric (it reports {', '.join(evaluator.metrics)})."
            )
            continue
        if not isinstance(rule, dict):
            errors.append(f'{metric}: must be {{"op": ..., "value": ...}}.')
            continue
        extra = set(rule) - {"op", "value", "severity", "on"}
        if extra:
            errors.append(f"{metric}: unknown keys {', '.join(sorted(extra))}.")
        if rule.get("op") not in THRESHOLD_OPS:
            errors.append(f"{metric}: op must be one of {', '.join(THRESHOLD_OPS)}.")
        value = rule.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            errors.append(f"{metric}: value must be a finite number.")
        if "on" in rule and rule["on"] not in THRESHOLD_BOUNDS:
            errors.append(f'{metric}: on must be "upper" or "lower" (the interval bound judged), or left out.')
        if "severity" in rule and rule["severity"] not in Severity.values:
            errors.append(f"{metric}: severity must be one of {', '.join(Severity.values)}.")
    return errors
