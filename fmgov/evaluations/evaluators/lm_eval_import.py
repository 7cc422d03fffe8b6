"""Import results computed elsewhere: lm-evaluation-harness JSON and Hugging Face model-index.

No model is called. Three generations of lm-evaluation-harness output are read:

- v0.3 (2023): ``results[task] = {"acc": .., "acc_stderr": ..}``, ``versions`` as ints,
  ``config`` with ``model_args``;
- v0.4.0: ``results[task] = {"acc,none": .., "acc_stderr,none": .., "alias": ..}``
  with ``groups`` and ``configs``;
- v0.4.x later: as v0.4.0 plus ``higher_is_better``, ``n-shot``, ``n-samples``,
  ``model_name``, ``git_hash``, ``date`` and more.

Every ``results[task]["metric,filter"]`` becomes a metric named
``task:metric`` (``task:metric[filter]`` when the filter is not ``none``),
with a 95% interval from the file's own standard error
(``metric_stderr,filter``: value ± 1.96 standard errors; none where the file
says ``"N/A"`` or gives none) and ``n`` from the file's ``n-samples``
(``effective``, else ``original``; a group's is the sum over its
``group_subtasks``) where present. Standard errors are also kept in the run's
details, not as metrics of their own; the file's
``config``, ``versions``, ``n-shot``, ``git_hash`` and model name are kept too,
after credentials in them are redacted (``fmgov.core.redaction``; the kinds
removed are listed in ``details["redacted"]``).
Higher-is-better comes from the file when it says (v0.4 later), else from the
metric name (perplexities and bits-per-byte are lower-is-better, the rest higher).

The Hugging Face ``model-index`` (in a model card's YAML, kept by the registry
in ``model_card_metadata``) lists ``results`` of ``{task, dataset, metrics:
[{type, value, name}]}``; each metric becomes ``dataset:type``.
"""

import math
from typing import Any

from fmgov.core.redaction import redact_mapping
from fmgov.evaluations.evaluators.base import Estimate, EvaluationContext, EvaluationResult, Evaluator, from_stderr

__all__ = ["LmEvalImport", "parse_lm_eval_results", "parse_model_index"]

LOWER_IS_BETTER_WORDS = ("perplexity", "bits_per_byte", "bpb", "loss", "ter", "wer", "cer")
STDERR_METHOD = "normal interval from the file's standard error"
NO_STDERR_METHOD = "point (the file gives no standard error)"


def _guess_higher_is_better(metric: str) -> bool:
    base = metric.split(",")[0].lower()
    return not any(word == base or base.endswith(word) for word in LOWER_IS_BETTER_WORDS)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().rstrip("%")
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _sample_counts(data: dict) -> dict[str, int]:
    """Items per task from ``n-samples`` (v0.4 later); a group's count is the sum over its subtasks."""
    declared = data.get("n-samples")
    counts: dict[str, int] = {}
    for task, entry in declared.items() if isinstance(declared, dict) else ():
        raw = entry.get("effective", entry.get("original")) if isinstance(entry, dict) else entry
        if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
            counts[task] = raw
    groups = data.get("group_subtasks")
    if not isinstance(groups, dict):
        return counts

    def group_count(task: str, seen: frozenset[str]) -> int | None:
        if task in counts:
            return counts[task]
        subtasks = groups.get(task)
        if task in seen or not isinstance(subtasks, list) or not subtasks:
            return None
        parts = [group_count(sub, seen | {task}) for sub in subtasks if isinstance(sub, str)]
        return sum(parts) if parts and None not in parts else None

    for group in groups:
        if isinstance(group, str) and (total := group_count(group, frozenset())) is not None:
            counts[group] = total
    return counts


def _estimate(value: float, stderr: float | None, n: int | None) -> Estimate:
    if stderr is None:
        return Estimate(value, n, None, None, NO_STDERR_METHOD)
    return from_stderr(value, stderr, n=n, method=STDERR_METHOD)


def parse_lm_eval_results(data: Any) -> EvaluationResult:
    """Metrics, higher-is-better and provenance from an lm-evaluation-harness results file."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or not data["results"]:
        raise ValueError("not an lm-evaluation-harness results file: no 'results' object with tasks.")
    # model_args and configs often carry ``token=hf_...``: nothing from the file is kept unscrubbed.
    data, redacted = redact_mapping(data)
    points: dict[str, float] = {}
    stderr: dict[str, float] = {}
    higher: dict[str, bool] = {}
    counts = _sample_counts(data)
    task_of: dict[str, str] = {}
    declared = data.get("higher_is_better") or {}
    for task, values in data["results"].items():
        if not isinstance(values, dict):
            continue
        for key, raw in values.items():
            if key == "alias" or key.startswith("samples"):
                continue
            value = _number(raw)
            if value is None:
                continue
            metric, _, filter_name = key.partition(",")
            name = f"{task}:{metric}" if filter_name in ("", "none") else f"{task}:{metric}[{filter_name}]"
            if metric.endswith("_stderr"):
                stderr[name] = value
                continue
            points[name] = value
            task_of[name] = task
            task_declared = declared.get(task) if isinstance(declared, dict) else None
            if isinstance(task_declared, dict) and isinstance(task_declared.get(metric), bool):
                higher[name] = task_declared[metric]
            else:
                higher[name] = _guess_higher_is_better(metric)
    if not points:
        raise ValueError("the results file holds no numeric metrics.")
    metrics = {
        name: _estimate(value, stderr.get(_stderr_name(name)), counts.get(task_of[name]))
        for name, value in points.items()
    }
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    if "model_args" in config and isinstance(config["model_args"], str):
        model = config["model_args"]
    else:
        model = data.get("model_name") or config.get("model_args") or ""
    generation = (
        "v0.3"
        if "groups" not in data and "configs" not in data
        else ("v0.4 (later)" if "higher_is_better" in data else "v0.4.0")
    )
    details = {
        "source": "lm-evaluation-harness",
        "format": generation,
        "model": str(model),
        "config": config,
        "versions": data.get("versions", {}),
        "n_shot": data.get("n-shot", config.get("num_fewshot")),
        "git_hash": data.get("git_hash", ""),
        "date": data.get("date"),
        "stderr": stderr,
        "tasks": sorted(data["results"]),
        "redacted": list(redacted),
    }
    return EvaluationResult(metrics=metrics, details=details, higher_is_better=higher)


def _stderr_name(name: str) -> str:
    """``task:acc[filter]`` -> ``task:acc_stderr[filter]``, the name its standard error is kept under."""
    metric, bracket, filter_part = name.partition("[")
    return f"{metric}_stderr{bracket}{filter_part}"


def parse_model_index(metadata: Any) -> EvaluationResult:
    """Metrics from a Hugging Face model card's ``model-index``."""
    index = metadata.get("model-index") if isinstance(metadata, dict) else None
    if not isinstance(index, list) or not index:
        raise ValueError("the model card metadata has no 'model-index' list.")
    metrics: dict[str, float] = {}
    sources = []
    for entry in index:
        for result in (entry or {}).get("results") or []:
            dataset = result.get("dataset") or {}
            task = result.get("task") or {}
            dataset_name = dataset.get("type") or dataset.get("name") or task.get("type") or "unknown"
            if dataset.get("config") and dataset.get("config") != "default":
                dataset_name = f"{dataset_name}/{dataset['config']}"
            for metric in result.get("metrics") or []:
                value = _number(metric.get("value"))
                kind = metric.get("type") or metric.get("name")
                if value is None or not kind:
                    continue
                metrics[f"{dataset_name}:{kind}"] = value
            if result.get("source"):
                sources.append(result["source"])
    if not metrics:
        raise ValueError("the model-index holds no numeric metrics.")
    higher = {name: _guess_higher_is_better(name.split(":", 1)[1]) for name in metrics}
    return EvaluationResult(
        metrics=metrics,
        details={"source": "huggingface model-index", "model": index[0].get("name", ""), "sources": sources},
        higher_is_better=higher,
    )


class LmEvalImport(Evaluator):
    name = "lm_eval_import"
    description = (
        "Metrics imported from an uploaded lm-evaluation-harness results file or the model card's model-index."
    )
    needs = None
    dynamic_metrics = True
    metrics = {}
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"source": {"type": "string", "enum": ["upload", "model_index"]}},
    }

    def higher_is_better(self, metric: str) -> bool | None:
        return _guess_higher_is_better(metric.split(":", 1)[-1])

    def run(self, context: EvaluationContext) -> EvaluationResult:
        """``source: model_index`` reads the deployed version's model card metadata; uploads come via the API."""
        if context.config.get("source", "upload") != "model_index":
            raise ValueError("this suite imports uploaded results: POST the results file to the upload endpoint.")
        target = context.deployment.target
        result = parse_model_index(target.model_card_metadata)
        context.progress(1.0)
        return result
