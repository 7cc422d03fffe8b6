"""The bundled demo models: deterministic, in-process stand-ins for a chat and an embeddings endpoint.

``seed_demo`` builds its evaluation history by running the real evaluators
against these models, so every metric a visitor sees is something an evaluator
computed (a rate in [0, 1], a latency above zero), never an invented number.
Nothing goes over the network and no real model is loaded.

The chat model's behaviour is a ``ChatPersona``: how often it refuses harmful
and benign-but-sensitive requests, which injection styles make it repeat its
system prompt, which groups get a cooler answer, which policy questions it
knows. Each decision compares a persona share with a fixed roll per prompt
(a hash of the persona's seed and the prompt), so a run is reproducible and a
share that moves over the weeks moves the measured rate the same way. Its
latency is simulated, not waited for: each completion reports a serving time
around the persona's median plus its decode time.

The embeddings model is a hashed bag of words (``EmbeddingPersona``) with one
learned association: names and words of the ``STEREOTYPE`` lists lean
towards one direction by ``strength``, which WEAT/SEAT then measures. Its
serving time is slept (milliseconds), as the embeddings evaluator times the call.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import time
from dataclasses import dataclass, field
from functools import cache

from fmgov.evaluations.adapters.base import Completion, EndpointConfig, ModelAdapter
from fmgov.evaluations.evaluators.base import data_jsonl

__all__ = ["ChatPersona", "DemoChatAdapter", "EmbeddingPersona", "DemoEmbeddingsAdapter", "STEREOTYPE"]

CHAT_MODEL_NAME = "fmgov demo chat model (in-process, deterministic, simulated latency)"
EMBEDDINGS_MODEL_NAME = "fmgov demo embeddings model (in-process hashed bag of words)"

REFUSAL = "I'm sorry, but I can't help with that request."
HELPFUL = "Sure. Here is a clear and helpful answer, with the steps and the caveats you should know about."
COOL = "Sure. Here is a brief answer, though results can vary."
UNSURE = "I am not certain; please check the policy portal for the current rule."


def roll(*parts: str) -> float:
    """A deterministic number in [0, 1) for these parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True)
class ChatPersona:
    """How the demo chat model behaves; every share is a probability in [0, 1]."""

    seed: str
    refuse_harmful: float = 0.97
    over_refuse: float = 0.05
    leak: dict[str, float] = field(default_factory=dict)  # injection category -> share of attempts that leak
    cool_toward: dict[str, float] = field(default_factory=dict)  # group term -> share of cooler answers
    knows: dict[str, str] = field(default_factory=dict)  # question substring -> answer
    recall: float = 1.0  # share of known questions answered from memory
    latency_s: float = 0.8  # median serving time before decoding
    tokens_per_second: float = 60.0
    week: int = 0  # varies the simulated latency from run to run, nothing else

    def describe(self) -> dict:
        """The persona as run details, so a visitor sees what the demo model was set to be."""
        return {
            "model": CHAT_MODEL_NAME,
            "seed": self.seed,
            "refuse_harmful": self.refuse_harmful,
            "over_refuse": self.over_refuse,
            "leak": dict(self.leak),
            "cool_toward": dict(self.cool_toward),
            "recall": self.recall,
            "latency_s": self.latency_s,
            "tokens_per_second": self.tokens_per_second,
        }


@cache
def _prompt_sets() -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
    """The evaluators' bundled prompt sets: the model 'recognises' them by content, as a real one would."""
    harmful = frozenset(row["prompt"] for row in data_jsonl("harmful_prompts.jsonl"))
    benign = frozenset(row["prompt"] for row in data_jsonl("benign_sensitive_prompts.jsonl"))
    attacks = {row["prompt"]: row.get("category", "") for row in data_jsonl("prompt_injection_attempts.jsonl")}
    return harmful, benign, attacks


class DemoChatAdapter(ModelAdapter):
    """Chat completions answered in-process from a ``ChatPersona``; used by the demo and its tests."""

    name = "demo_chat"
    supports_chat = True

    def __init__(self, persona: ChatPersona):
        super().__init__(EndpointConfig(model=CHAT_MODEL_NAME, concurrency=1))
        self.persona = persona

    def _reply(self, system: str, prompt: str) -> str:
        persona = self.persona
        chance = roll(persona.seed, prompt)
        harmful, benign, attacks = _prompt_sets()
        if prompt in attacks:
            return self._leak(system) if chance < persona.leak.get(attacks[prompt], 0.0) else REFUSAL
        if prompt in harmful:
            return REFUSAL if chance < persona.refuse_harmful else HELPFUL
        if prompt in benign:
            return REFUSAL if chance < persona.over_refuse else HELPFUL
        lowered = prompt.lower()
        for question, answer in persona.knows.items():
            if question.lower() in lowered:
                return answer if chance < persona.recall else UNSURE
        for group, share in persona.cool_toward.items():
            if re.search(rf"\b{re.escape(group.lower())}\b", lowered):
                return COOL if chance < share else HELPFUL
        return HELPFUL

    @staticmethod
    def _leak(system: str) -> str:
        return f"Of course. My instructions were: {system}"

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 256, temperature: float = 0.0) -> Completion:
        system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        text = " ".join(self._reply(system, prompt).split()[:max_tokens])
        tokens = len(text.split())
        jitter = 0.6 + 0.8 * roll(self.persona.seed, "latency", str(self.persona.week), prompt)
        latency = self.persona.latency_s * jitter + tokens / self.persona.tokens_per_second
        return Completion(
            text=text,
            latency_s=round(latency, 4),
            prompt_tokens=len(prompt.split()),
            completion_tokens=tokens,
            finish_reason="stop",
        )


# The association the demo embeddings model learnt: the WEAT 6 word sets (Caliskan et al. 2017), as a real
# model picks them up from its training text. +1 leans one way, -1 the other.
STEREOTYPE = {
    **dict.fromkeys(["john", "paul", "mike", "kevin", "steve", "greg", "jeff", "bill"], 1.0),
    **dict.fromkeys(["executive", "management", "professional", "corporation", "salary", "office"], 1.0),
    **dict.fromkeys(["business", "career"], 1.0),
    **dict.fromkeys(["amy", "joan", "lisa", "sarah", "diana", "kate", "ann", "donna"], -1.0),
    **dict.fromkeys(["home", "parents", "children", "family", "cousins", "marriage", "wedding", "relatives"], -1.0),
}
DIMENSIONS = 64


@dataclass(frozen=True)
class EmbeddingPersona:
    """How the demo embeddings model behaves: the association's strength and its simulated serving time."""

    seed: str
    strength: float = 0.5  # weight of the stereotype direction against a word's own direction (norm 1)
    serving_s: float = 0.006  # per request
    serving_per_text_s: float = 0.0005

    def describe(self) -> dict:
        return {
            "model": EMBEDDINGS_MODEL_NAME,
            "seed": self.seed,
            "dimensions": DIMENSIONS,
            "stereotype_strength": self.strength,
            "serving_s": self.serving_s,
            "serving_per_text_s": self.serving_per_text_s,
        }


@cache
def _direction(seed: str, word: str) -> tuple[float, ...]:
    """A pseudo-random unit vector for a word: unrelated words are nearly orthogonal."""
    rng = random.Random(f"{seed}\x1f{word}")
    vector = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS)]
    norm = math.sqrt(sum(v * v for v in vector))
    return tuple(v / norm for v in vector)


class DemoEmbeddingsAdapter(ModelAdapter):
    """Embeddings computed in-process from an ``EmbeddingPersona``; used by the demo and its tests."""

    name = "demo_embeddings"
    supports_embeddings = True

    def __init__(self, persona: EmbeddingPersona):
        super().__init__(EndpointConfig(model=EMBEDDINGS_MODEL_NAME, concurrency=1))
        self.persona = persona

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z0-9]+", text.lower()) or [""]
        axis = _direction(self.persona.seed, "\x00stereotype")
        total = [0.0] * DIMENSIONS
        for word in words:
            lean = STEREOTYPE.get(word, 0.0) * self.persona.strength
            for i, value in enumerate(_direction(self.persona.seed, word)):
                total[i] += value + lean * axis[i]
        norm = math.sqrt(sum(v * v for v in total)) or 1.0
        return [v / norm for v in total]

    def embed(self, texts: list[str]) -> list[list[float]]:
        time.sleep(self.persona.serving_s + self.persona.serving_per_text_s * len(texts))
        return [self._vector(text) for text in texts]
