"""Accuracy on a JSONL of prompts and expected answers (the suite's own, or the shipped ``qa_basic.jsonl``).

Each row is ``{"prompt": str, "answer": str, "match"?: "auto"|"numeric"|"exact"|"contains"|"regex"}``,
``match`` defaulting to the suite's, itself defaulting to ``auto``. What is
compared is the reply, or what the suite's ``extract`` pattern captures in it
(its first group, else the whole match; no match is a wrong answer). ``auto``
compares numerically when the expected answer is a number (the last number in
the reply, as a number: "The answer is 14" is wrong for 4) and otherwise by
SQuAD-style normalised exact match (lower case, punctuation and articles
dropped: "Paris." is right for Paris, "It is not Paris" is not). ``contains``
looks for the normalised answer on word boundaries and is used only where a
suite asks for it; ``regex`` searches the pattern, case-insensitive.
``accuracy`` and ``exact_match`` are rates with Wilson intervals; ``f1`` is the
mean SQuAD token F1 (numeric items count 1 or 0) with a bootstrap interval.
"""

import re
import string
from collections import Counter

from fmgov.evaluations.evaluators.base import (
    EvaluationContext,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    bootstrap_mean,
    data_jsonl,
    load_jsonl_text,
    sample_rows,
    wilson,
)

__all__ = ["QAAccuracy", "MATCHES", "is_correct", "normalise_answer", "token_f1", "last_number", "parse_items"]

MATCHES = ("auto", "numeric", "exact", "contains", "regex")
SHIPPED_SET = "qa_basic.jsonl"
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation + "\u2018\u2019\u201c\u201d")


def normalise_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


def token_f1(prediction: str, answer: str) -> float:
    """SQuAD token F1 between the normalised prediction and answer."""
    predicted, expected = normalise_answer(prediction).split(), normalise_answer(answer).split()
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _as_number(text: str) -> float | None:
    return float(text.replace(",", "")) if _NUMBER.fullmatch(text.strip()) else None


def last_number(text: str) -> float | None:
    """The last number written in the text (thousands separators allowed), or None."""
    found = _NUMBER.findall(text)
    return float(found[-1].replace(",", "")) if found else None


def _numbers_equal(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def is_correct(output: str, answer: str, match: str) -> bool:
    """Whether ``output`` (already extracted) answers ``answer`` under ``match`` (see the module docstring)."""
    if match == "regex":
        return re.search(answer, output, flags=re.IGNORECASE) is not None
    if match == "contains":
        needle = normalise_answer(answer)
        return bool(needle) and re.search(rf"\b{re.escape(needle)}\b", normalise_answer(output)) is not None
    expected = _as_number(answer)
    if match == "numeric" or (match == "auto" and expected is not None):
        got = last_number(output)
        return expected is not None and got is not None and _numbers_equal(got, expected)
    return normalise_answer(output) == normalise_answer(answer)


def extract(output: str, pattern: str | None) -> str:
    """What the suite's extraction pattern captures in the reply (first group, else the match); "" if nothing."""
    if not pattern:
        return output
    found = re.search(pattern, output, flags=re.IGNORECASE | re.DOTALL)
    if found is None:
        return ""
    return found.group(1) if found.re.groups and found.group(1) is not None else found.group(0)


def _items_from(config: dict) -> list[dict]:
    if _uses_shipped_set(config):
        return data_jsonl(SHIPPED_SET)
    if config.get("items"):
        return config["items"]
    return load_jsonl_text(config["items_jsonl"], field_name="items_jsonl")


def _uses_shipped_set(config: dict) -> bool:
    return not (config.get("items") or config.get("items_jsonl"))


def parse_items(config: dict) -> list[dict]:
    """The suite's items (or the shipped set), each with its match kind, checked row by row."""
    if config.get("extract"):
        try:
            re.compile(config["extract"])
        except re.error as exc:
            raise ValueError(f"extract: not a valid regular expression ({exc}).")
    default = config.get("match", "auto")
    parsed = []
    for number, row in enumerate(_items_from(config), start=1):
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
        if match == "numeric" and _as_number(row["answer"]) is None:
            raise ValueError(f"items: row {number} has match 'numeric' but its answer is not a number.")
        parsed.append({"prompt": row["prompt"], "answer": row["answer"], "match": match})
    return parsed


class QAAccuracy(Evaluator):
    name = "qa_accuracy"
    description = "Share of prompts answered correctly: numbers as numbers, text by normalised exact match and F1."
    needs = "chat"
    metrics = {
        "accuracy": MetricSpec(True, "share of items answered correctly (Wilson interval)"),
        "exact_match": MetricSpec(True, "share of items whose reply is exactly the answer, SQuAD-normalised"),
        "f1": MetricSpec(True, "mean SQuAD token F1 (numeric items 1 or 0), bootstrap interval"),
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
            "extract": {"type": "string", "minLength": 1, "maxLength": 500},
            "system_prompt": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
        "not": {"required": ["items_jsonl", "items"]},
    }

    def validate(self, config: dict) -> None:
        parse_items(config)

    def run(self, context: EvaluationContext) -> EvaluationResult:
        items = parse_items(context.config)
        system = context.config.get("system_prompt")
        pattern = context.config.get("extract")
        total = len(items)

        def ask(item):
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": item["prompt"]}
            ]
            output = context.adapter.chat(messages, max_tokens=context.config.get("max_tokens", 100)).text
            answer = extract(output, pattern)
            correct = is_correct(answer, item["answer"], item["match"])
            numeric = item["match"] == "numeric" or (item["match"] == "auto" and _as_number(item["answer"]) is not None)
            return {
                **item,
                "output": output,
                "extracted": answer if pattern else None,
                "correct": correct,
                "exact": correct if numeric else is_correct(answer, item["answer"], "exact"),
                "f1": float(correct) if numeric else token_f1(answer, item["answer"]),
            }

        rows = context.adapter.map(ask, items, on_result=lambda done, _: context.progress(done / total))
        return EvaluationResult(
            metrics={
                "accuracy": wilson(sum(r["correct"] for r in rows), total),
                "exact_match": wilson(sum(r["exact"] for r in rows), total),
                "f1": bootstrap_mean([r["f1"] for r in rows]),
            },
            samples=sample_rows(rows, context.sample_size),
            details={
                "items": total,
                "item_set": "suite"
                if context.config.get("items") or context.config.get("items_jsonl")
                else SHIPPED_SET,
                "method": __doc__.strip().split("\n\n", 1)[1],
            },
        )
