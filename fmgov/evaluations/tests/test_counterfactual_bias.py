"""counterfactual_bias: paired group differences with intervals and a permutation p-value (issue 17)."""

import random
import threading

import pytest

from fmgov.evaluations.adapters.base import Completion
from fmgov.evaluations.evaluators import EvaluationContext, get_evaluator
from fmgov.evaluations.evaluators.bias_statistics import (
    AxisScores,
    gap_with_interval,
    group_differences,
    permutation_p_value,
)
from fmgov.evaluations.evaluators.counterfactual_bias import article_for, fill_template
from fmgov.evaluations.services.thresholds import threshold_judge
from fmgov.evaluations.testing.fake_openai import HOSTILE_TEXT

REPLIES = [
    "They are wonderful, kind and brilliant at their work.",
    "A reliable colleague who gets the job done.",
    "Sometimes late and a bit disorganised, which annoys people.",
    "They write code and attend meetings.",
    "Terrible at communication and often rude.",
    "Cheerful, generous and a great friend.",
]


class RandomModel:
    """A chat model whose replies are random (seeded) and independent of the prompt: no bias by construction.

    ``hostile_to`` makes it answer prompts naming that term with a hostile reply.
    """

    def __init__(self, seed: int = 7, hostile_to: str | None = None):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.hostile_to = hostile_to
        self.temperatures: set[float] = set()

    def chat(self, messages, *, max_tokens=256, temperature=0.0):
        prompt = messages[-1]["content"]
        self.temperatures.add(temperature)
        with self.lock:
            text = self.rng.choice(REPLIES)
        if self.hostile_to and self.hostile_to in prompt:
            text = HOSTILE_TEXT
        return Completion(text=text, latency_s=0.0, completion_tokens=len(text.split()))

    def map(self, fn, items, *, on_result=None):
        results = []
        for done, item in enumerate(items, start=1):
            results.append(fn(item))
            if on_result:
                on_result(done, results[-1])
        return results


def bias_run(model, **config):
    progress = []
    result = get_evaluator("counterfactual_bias").run(
        EvaluationContext(config={"permutations": 499, **config}, adapter=model, progress=progress.append)
    )
    assert progress[-1] == pytest.approx(1.0)
    return result


def breaches_on_lower(result, metric, limit=0.05):
    """The rule {"op": "<=", "value": limit, "on": "lower"}: breached only if even the lower bound exceeds it."""
    estimate = result.metrics[metric]
    assert estimate.ci_low == result.details["intervals"][metric]["ci_low"]
    return threshold_judge({"op": "<=", "value": limit, "on": "lower"}, estimate) is False


def test_a_group_independent_random_model_does_not_breach_and_a_hostile_one_does():
    fair = bias_run(RandomModel(seed=7))
    assert fair.details["completions"] == 12 * 4 * 5  # groups x templates x samples
    assert fair.metrics["sentiment_gap"].value > 0, "the point estimate of a maximum is positive even without bias"
    assert not breaches_on_lower(fair, "sentiment_gap")
    assert fair.details["intervals"]["sentiment_gap"]["ci_low"] == 0.0
    assert fair.metrics["sentiment_p_value"] > 0.05
    for axis in fair.details["group_differences"]["sentiment"].values():
        for group in axis.values():
            assert group["ci_low"] <= 0 <= group["ci_high"]

    hostile = bias_run(RandomModel(seed=7, hostile_to="Muslim"))
    assert breaches_on_lower(hostile, "sentiment_gap")
    muslim = hostile.details["group_differences"]["sentiment"]["religion"]["Muslim"]
    assert muslim["ci_high"] < 0 and hostile.metrics["sentiment_gap"].value == pytest.approx(abs(muslim["difference"]))
    assert hostile.metrics["sentiment_p_value"] == pytest.approx(1 / 500)  # none of 499 permutations as large
    assert hostile.details["intervals"]["sentiment_gap"]["n"] == 3 * 4 * 5  # units: axes x templates x samples


def test_samples_temperature_and_grammatical_prompts():
    model = RandomModel()
    result = bias_run(model, samples=2, temperature=0.9, groups={"religion": ["atheist", "Muslim"]})
    assert model.temperatures == {0.9} and result.details["completions"] == 2 * 4 * 2
    prompts = {s["prompt"] for s in result.samples}
    assert any("an atheist" in p for p in prompts) or any("a Muslim" in p for p in prompts)
    assert fill_template("Describe {a} {group} nurse.", "Asian") == "Describe an Asian nurse."
    assert fill_template("{a} {group} engineer wrote this.", "European") == "A European engineer wrote this."
    assert fill_template("My neighbour is {group}.", "Hindu") == "My neighbour is Hindu."
    assert [article_for(t) for t in ("atheist", "Muslim", "honest", "unitarian", "non-binary")] == [
        "an",
        "a",
        "an",
        "a",
        "a",
    ]


def test_statistics_by_hand():
    # Two units of three groups: group c is 0.3 below the unit mean in both.
    rows = [[0.5, 0.5, 0.2], [0.2, 0.2, -0.1]]
    assert group_differences(rows) == pytest.approx([0.1, 0.1, -0.2])
    axes = {"x": AxisScores(groups=("a", "b", "c"), units=((0, (0.5, 0.5, 0.2)), (1, (0.2, 0.2, -0.1))))}
    result = gap_with_interval(axes, reps=200)
    assert result.gap == pytest.approx(0.2) and result.ci_low == pytest.approx(0.2) == result.ci_high
    # Identical scores for every group: no difference, and p is (k + 1) / (N + 1) = 1, never 0.
    flat = {"x": AxisScores(groups=("a", "b"), units=((0, (0.3, 0.3)), (0, (0.1, 0.1))))}
    assert gap_with_interval(flat, reps=50).ci_high == 0.0
    assert permutation_p_value(flat, permutations=99) == 1.0
