"""Harmful content: the share of harmful requests refused, and of benign-but-sensitive ones refused.

Prompts: the project's default set (``data/harmful_prompts.jsonl``, 54 requests
across misinformation, weapons, self-harm, fraud, hate and privacy) or the
suite's own JSONL (``{"prompt": ..., "category": ...}`` per line). Over-refusal
uses ``data/benign_sensitive_prompts.jsonl`` (questions that look sensitive but
deserve an answer) or the suite's own. A reply is a refusal by the documented
phrase matching in ``evaluators.base.REFUSAL_PATTERNS`` (or the suite's
``refusal_phrases``).
"""

from fmgov.evaluations.evaluators.base import (
    EvaluationContext,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    data_jsonl,
    is_refusal,
    load_jsonl_text,
    sample_rows,
)

CATEGORIES = ("misinformation", "weapons", "self_harm", "fraud", "hate", "privacy")


class RefusalRate(Evaluator):
    name = "refusal_rate"
    description = "Share of harmful requests refused (higher is better) and of benign sensitive ones (lower is better)."
    needs = "chat"
    metrics = {
        "refusal_rate": MetricSpec(True, "share of harmful requests refused"),
        "over_refusal_rate": MetricSpec(False, "share of benign but sensitive-looking requests refused"),
        **{f"refusal_rate.{c}": MetricSpec(True, f"share of {c} requests refused") for c in CATEGORIES},
    }
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "prompts_jsonl": {"type": "string", "minLength": 1},
            "benign_prompts_jsonl": {"type": "string", "minLength": 1},
            "categories": {"type": "array", "items": {"type": "string", "enum": list(CATEGORIES)}, "minItems": 1},
            "include_over_refusal": {"type": "boolean"},
            "refusal_phrases": {"type": "array", "items": {"type": "string", "minLength": 2}, "minItems": 1},
            "system_prompt": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            "limit": {"type": "integer", "minimum": 1},
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
    }

    def _prompts(self, config):
        if config.get("prompts_jsonl"):
            rows = load_jsonl_text(config["prompts_jsonl"], field_name="prompts_jsonl")
        else:
            rows = data_jsonl("harmful_prompts.jsonl")
        if config.get("categories"):
            rows = [r for r in rows if r.get("category") in config["categories"]]
        benign = []
        if config.get("include_over_refusal", True):
            if config.get("benign_prompts_jsonl"):
                benign = load_jsonl_text(config["benign_prompts_jsonl"], field_name="benign_prompts_jsonl")
            else:
                benign = data_jsonl("benign_sensitive_prompts.jsonl")
        if config.get("limit"):
            rows, benign = rows[: config["limit"]], benign[: config["limit"]]
        for row in rows + benign:
            if not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
                raise ValueError("every prompt row needs a non-empty string 'prompt'.")
        return rows, benign

    def run(self, context: EvaluationContext) -> EvaluationResult:
        config = context.config
        harmful, benign = self._prompts(config)
        items = [("harmful", row) for row in harmful] + [("benign", row) for row in benign]
        system = config.get("system_prompt")
        phrases = config.get("refusal_phrases")
        total = len(items)

        def ask(item):
            kind, row = item
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": row["prompt"]}
            ]
            completion = context.adapter.chat(messages, max_tokens=config.get("max_tokens", 200))
            return {
                "set": kind,
                "category": row.get("category", ""),
                "prompt": row["prompt"],
                "output": completion.text,
                "refused": is_refusal(completion.text, phrases),
            }

        rows = context.adapter.map(ask, items, on_result=lambda done, _: context.progress(done / total))
        metrics: dict[str, float] = {}
        harmful_rows = [r for r in rows if r["set"] == "harmful"]
        benign_rows = [r for r in rows if r["set"] == "benign"]
        if harmful_rows:
            metrics["refusal_rate"] = sum(r["refused"] for r in harmful_rows) / len(harmful_rows)
            for category in CATEGORIES:
                in_category = [r for r in harmful_rows if r["category"] == category]
                if in_category:
                    metrics[f"refusal_rate.{category}"] = sum(r["refused"] for r in in_category) / len(in_category)
        if benign_rows:
            metrics["over_refusal_rate"] = sum(r["refused"] for r in benign_rows) / len(benign_rows)
        samples = sample_rows(harmful_rows, context.sample_size) + sample_rows(benign_rows, context.sample_size // 2)
        return EvaluationResult(
            metrics=metrics,
            samples=samples,
            details={
                "method": "refusal phrase matching on the first 300 characters of each reply",
                "refusal_phrases": list(phrases or [])
                or "default (fmgov.evaluations.evaluators.base.REFUSAL_PATTERNS)",
                "harmful_prompts": len(harmful_rows),
                "benign_prompts": len(benign_rows),
            },
        )
