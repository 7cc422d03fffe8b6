"""CycloneDX 1.6 ``modelCard`` objects for registry records, and the facts an import reads back from one.

``cyclonedx-python-lib`` does not model ``modelCard`` yet, so it is built here
as plain JSON in the schema's shape: model parameters, the quantitative
analysis (the latest metrics of every suite, with their 95% intervals; the
sample size and interval method, which ``performanceMetric`` has no field for,
as ``fmgov:metric:*`` properties), and the considerations (uses, limitations,
the approved review's risks, bias items as fairness assessments, training
energy and emissions as environmental considerations).
"""

import math
from typing import Any

from fmgov.evaluations.models import EvaluationRun
from fmgov.registry.models import Adaptation, FoundationModel
from fmgov.reviews.models import RiskReview

__all__ = ["model_card", "facts_from_model_card"]

FAIRNESS_CATEGORIES = frozenset({"bias"})


def _finite(value: float | None) -> bool:
    """A number the BOM's JSON can carry (NaN and infinities are not JSON)."""
    return value is not None and math.isfinite(value)


def _number(value: float) -> str:
    return format(value, ".6g")


def _metrics(runs: list[EvaluationRun]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Performance metrics and the properties carrying their n and interval method."""
    metrics: list[dict[str, Any]] = []
    properties: list[dict[str, str]] = []
    for run in runs:
        slice_name = f"deployment {run.deployment.name} ({run.deployment.environment}), run {run.pk}"
        for metric in run.metrics.all():
            if not _finite(metric.value):
                continue
            kind = f"{run.suite.name}/{metric.name}"
            entry: dict[str, Any] = {"type": kind, "value": _number(metric.value), "slice": slice_name}
            if _finite(metric.ci_low) and _finite(metric.ci_high):
                entry["confidenceInterval"] = {
                    "lowerBound": _number(metric.ci_low),
                    "upperBound": _number(metric.ci_high),
                }
            metrics.append(entry)
            if metric.n is not None:
                properties.append({"name": f"fmgov:metric:{kind}:n", "value": str(metric.n)})
            if metric.method:
                properties.append({"name": f"fmgov:metric:{kind}:method", "value": metric.method})
    return metrics, properties


def _risks(reviews: list[RiskReview]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The approved reviews' items as ethical considerations; bias items also as fairness assessments."""
    ethical: list[dict[str, str]] = []
    fairness: list[dict[str, str]] = []
    for review in reviews:
        for item in review.items.all():
            risk = {"name": f"{item.category.name}: {item.description}"}
            if item.mitigation:
                risk["mitigationStrategy"] = item.mitigation
            if risk not in ethical:
                ethical.append(risk)
            if item.category.slug in FAIRNESS_CATEGORIES:
                assessment = {"harms": item.description}
                if item.mitigation:
                    assessment["mitigationStrategy"] = item.mitigation
                if assessment not in fairness:
                    fairness.append(assessment)
    return ethical, fairness


def _environment(record: FoundationModel | Adaptation) -> dict[str, Any] | None:
    if not isinstance(record, FoundationModel) or not _finite(record.training_energy_kwh):
        return None
    training: dict[str, Any] = {
        "activity": "training",
        "energyProviders": [],
        "activityEnergyCost": {"value": record.training_energy_kwh, "unit": "kWh"},
    }
    if _finite(record.training_emissions_tco2e):
        training["co2CostEquivalent"] = {"value": record.training_emissions_tco2e, "unit": "tCO2eq"}
    return {"energyConsumptions": [training]}


def _parameters(record: FoundationModel | Adaptation) -> dict[str, Any]:
    if isinstance(record, FoundationModel):
        parameters: dict[str, Any] = {"task": record.modality}
        if record.architecture:
            parameters["modelArchitecture"] = record.architecture
        summary = record.training_data_summary
    else:
        parameters = {"task": record.kind}
        summary = record.data_summary
    if summary:
        parameters["datasets"] = [{"type": "dataset", "name": "training data", "description": summary}]
    return parameters


def model_card(
    record: FoundationModel | Adaptation, *, runs: list[EvaluationRun], reviews: list[RiskReview]
) -> dict[str, Any]:
    """The record's modelCard: what it is, how it measures today, and what the board weighed."""
    card: dict[str, Any] = {"modelParameters": _parameters(record)}
    metrics, properties = _metrics(runs)
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations: dict[str, Any] = {}
    uses = record.intended_uses if isinstance(record, FoundationModel) else record.purpose
    if uses:
        considerations["useCases"] = [uses]
    if isinstance(record, FoundationModel) and record.out_of_scope_uses:
        considerations["technicalLimitations"] = [record.out_of_scope_uses]
    ethical, fairness = _risks(reviews)
    if ethical:
        considerations["ethicalConsiderations"] = ethical
    if fairness:
        considerations["fairnessAssessments"] = fairness
    if environment := _environment(record):
        considerations["environmentalConsiderations"] = environment
    if considerations:
        card["considerations"] = considerations
    if properties:
        card["properties"] = properties
    return card


def _first_text(values: Any) -> str:
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return ""


def _training(considerations: dict[str, Any]) -> dict[str, Any]:
    environment = considerations.get("environmentalConsiderations") or {}
    for use in environment.get("energyConsumptions") or []:
        if use.get("activity") == "training":
            found = {"training_energy_kwh": use["activityEnergyCost"]["value"]}
            if co2 := use.get("co2CostEquivalent"):
                found["training_emissions_tco2e"] = co2["value"]
            return found
    return {}


def facts_from_model_card(card: Any, *, foundation_model: bool) -> dict[str, Any]:
    """Registry fields from a (schema-valid) modelCard: the reverse of ``model_card``, for an import."""
    if not isinstance(card, dict):
        return {}
    parameters = card.get("modelParameters") or {}
    considerations = card.get("considerations") or {}
    datasets = [d for d in parameters.get("datasets") or [] if isinstance(d.get("description"), str)]
    summary = datasets[0]["description"] if datasets else ""
    uses = _first_text(considerations.get("useCases"))
    if not foundation_model:
        return {key: value for key, value in {"purpose": uses, "data_summary": summary}.items() if value}
    facts = {
        "architecture": parameters.get("modelArchitecture") or "",
        "intended_uses": uses,
        "out_of_scope_uses": _first_text(considerations.get("technicalLimitations")),
        "training_data_summary": summary,
        **_training(considerations),
    }
    return {key: value for key, value in facts.items() if value not in ("", None)}
