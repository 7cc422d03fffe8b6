"""An optional judge model: any OpenAI-compatible chat model classifies replies a keyword rule cannot.

A suite names the judge as ``judge_deployment`` (the id of a deployment with a
chat endpoint; the worker builds its adapter exactly as for the deployment under
test, under the same egress and credential rules). The judge's prompts are shipped
and versioned files, ``data/<name>_v<version>.txt``; ``{{field}}`` placeholders
are filled in one pass, so a reply cannot smuggle in another placeholder. The
judge answers with one label; a reply it does not label (no label, or several)
is left unjudged and counted apart, never guessed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["JUDGE_CONFIG_PROPERTIES", "JudgePrompt", "judge_prompt", "ask_judge", "judge_label"]

JUDGE_CONFIG_PROPERTIES = {"judge_deployment": {"type": "integer", "minimum": 1}}
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    version: int
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def describe(self, judge: Any) -> str:
        """What a metric's method names: the judge model and the exact prompt."""
        model = getattr(getattr(judge, "config", None), "model", "") or "unnamed model"
        return f"judge model {model} (prompt {self.name} v{self.version}, sha256 {self.sha256[:12]})"

    def fill(self, **fields: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(fields.get(m.group(1), m.group(0))), self.text)


def judge_prompt(name: str, version: int) -> JudgePrompt:
    text = resources.files("fmgov.evaluations").joinpath("data", f"{name}_v{version}.txt").read_text(encoding="utf-8")
    return JudgePrompt(name, version, text)


def judge_label(answer: str, labels: tuple[str, ...]) -> str | None:
    """The one label the judge gave (whole word, any case), or None when it gave none or several."""
    found = {label for label in labels if re.search(rf"\b{label}\b", answer or "", re.IGNORECASE)}
    return found.pop() if len(found) == 1 else None


def ask_judge(judge: Any, template: JudgePrompt, labels: tuple[str, ...], /, **fields: str) -> str | None:
    """Ask the judge (deterministically: temperature 0) and read its label."""
    completion = judge.chat([{"role": "user", "content": template.fill(**fields)}], max_tokens=8, temperature=0.0)
    return judge_label(completion.text, labels)
