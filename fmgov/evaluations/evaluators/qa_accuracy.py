"""Accuracy on a JSONL of prompts and expected answers.

Each row is ``{"prompt": str, "answer": str, "match": "exact"|"contains"|"regex"}``
(``match`` defaulting to the suite's ``match``, itself defaulting to
``contains``). Exact match compares case-folded, whitespace-collapsed,
end-punctuation-stripped strings; contains looks for the answer (case-folded)
in the reply; regex searches the pattern (case-insensitive) in the reply.
"""

import re

from fmgov.evaluations.evaluators.base import (
    EvaluationContext,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    load_jsonl_text,
    sample_rows,
)

MATCHES = ("exact", "contains", "regex")


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split()).strip(" .!?;:\"'")


def is_correct(output: str, answer: str, match: str) -> bool:
    if match == "exact":
        return _normalise(output) == _normalise(answer)
    if match == "regex":
        return re.search(answer, output, flags=re.IGNORECASE) is not None
    return _normalise(answer) in _normalise(output)


def parse_items(config: dict) -> list[dict]:
    items = config.get("items") or load_jsonl_text(config.get("items_jsonl", ""), field_name="items_jsonl")
    default = config.get("match", "contains")
    parsed = []
    for number, row in enumerate(items, start=1):
        if not isinstance(row.get("prompt"), str) or not isinstance(row.get("answer"), str):
            raise ValueError(f"items: row {number} needs string 'prompt' and 'answer'.")
        match = row.get("match", default)
        if match not in MATCHES:
            raise ValueError(f"items: row {number} has match {match!r}; use one of {', '.join(MATCHES)}.")
        if match == "regex":
            try:
                re.compile(row["answer"])
            except re.error as exc:
                raise ValueError(f"items: row {number} has an invalid regex ({exc}).")
        parsed.append({"prompt": row["prompt"], "answer": row["answer"], "match": match})
    return parsed


class QAAccuracy(Evaluator):
    name = "qa_accuracy"
    description = "Share of prompts answered correctly (exact match, contains or regex)."
    needs = "chat"
    metrics = {
        "accuracy": MetricSpec(True, "share of items answered correctly"),
        "exact_match": MetricSpec(True, "share of items whose reply is exactly the answer (normalised)"),
    }
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "items_jsonl": {"type": "string", "minLength": 1},
            "items": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["prompt", "answer"],
                    "properties": {
                        "prompt": {"type": "string", "minLength": 1},
                        "answer": {"type": "string", "minLength": 1},
                        "match": {"type": "string", "enum": list(MATCHES)},
                    },
                },
            },
            "match": {"type": "string", "enum": list(MATCHES)},
            "system_prompt": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
        "oneOf": [{"required": ["items_jsonl"]}, {"required": ["items"]}],
    }

    def validate(self, config: dict) -> None:
        parse_items(config)

    def run(self, context: EvaluationContext) -> EvaluationResult:
        items = parse_items(context.config)
        system = context.config.get("system_prompt")
        total = len(items)

        def ask(item):
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": item["prompt"]}
            ]
            output = context.adapter.chat(messages, max_tokens=context.config.get("max_tokens", 100)).text
            return {
                **item,
                "output": output,
                "correct": is_correct(output, item["answer"], item["match"]),
                "exact": is_correct(output, item["answer"], "exact"),
            }

        rows = context.adapter.map(ask, items, on_result=lambda done, _: context.progress(done / total))
        return EvaluationResult(
            metrics={
                "accuracy": sum(r["correct"] for r in rows) / total,
                "exact_match": sum(r["exact"] for r in rows) / total,
            },
            samples=sample_rows(rows, context.sample_size),
            details={"items": total, "method": __doc__.strip().split("\n\n", 1)[1]},
        )
