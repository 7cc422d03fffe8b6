"""Bias in embedding models: the WEAT/SEAT effect size and its permutation-test p-value.

Caliskan, Bryson and Narayanan (2017) define, for target word sets X, Y and
attribute sets A, B, with cos the cosine similarity:

    s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)
    effect size d = (mean_{x in X} s(x) - mean_{y in Y} s(y)) / std_{w in X u Y} s(w)   (sample std)
    test statistic S = sum_{x in X} s(x) - sum_{y in Y} s(y)
    p = (k + 1) / (N + 1), k = the number of the N equal-size partitions (X_i, Y_i)
        of X u Y with S(X_i, Y_i) >= S(X, Y)

so p is never 0 (a permutation p-value cannot be, Phipson and Smyth 2010).
May et al. (2019, SEAT) embed each word inside semantically bleached sentence
templates ("This is {word}.") and treat each sentence as an item of its set;
``mode: "seat"`` does that, ``mode: "weat"`` embeds the bare words. The word
sets are the classic WEAT ones shipped in ``data/weat_sets.json`` (weat1,
weat2, weat6, weat7, weat8) or the suite's own ``X``/``Y``/``A``/``B``. The
p-value enumerates every partition when they number at most ``permutations``,
else samples that many at random (seeded, so reproducible). The 95% interval on
``d`` is a seeded percentile bootstrap resampling the items (words, or
sentences) of each of the four sets independently.
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import TYPE_CHECKING

from fmgov.evaluations.evaluators.base import (
    Estimate,
    EvaluationContext,
    EvaluationResult,
    Evaluator,
    MetricSpec,
    data_json,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EmbeddingAssociation", "weat_effect_size", "weat_p_value", "weat_effect_size_interval"]

_word_list = {"type": "array", "minItems": 2, "items": {"type": "string", "minLength": 1}}


def _unit(vectors: np.ndarray) -> np.ndarray:
    import numpy as np  # numpy comes with the ML extras; imported when an evaluation needs it

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _associations(targets: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (targets @ A.T).mean(axis=1) - (targets @ B.T).mean(axis=1)


def weat_effect_size(X: np.ndarray, Y: np.ndarray, A: np.ndarray, B: np.ndarray) -> float:
    import numpy as np

    X, Y, A, B = (_unit(np.asarray(m, dtype=float)) for m in (X, Y, A, B))
    sx, sy = _associations(X, A, B), _associations(Y, A, B)
    spread = np.concatenate([sx, sy]).std(ddof=1)
    return float((sx.mean() - sy.mean()) / spread) if spread > 0 else 0.0


def weat_p_value(
    X: np.ndarray,
    Y: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    *,
    permutations: int = 10_000,
    seed: int = 0,
) -> tuple[float, bool]:
    """One-sided permutation p-value; returns (p, exact)."""
    import numpy as np

    X, Y, A, B = (_unit(np.asarray(m, dtype=float)) for m in (X, Y, A, B))
    s = _associations(np.concatenate([X, Y]), A, B)
    n = len(X)
    total = s.sum()
    observed = 2 * s[:n].sum() - total  # sum_X - sum_Y
    tolerance = 1e-12 * max(1.0, abs(observed))  # the observed partition itself must count despite rounding
    exact = comb(len(s), n) <= permutations
    if exact:
        stats = np.array([2 * s[list(idx)].sum() - total for idx in combinations(range(len(s)), n)])
    else:
        rng = np.random.default_rng(seed)
        stats = np.empty(permutations)
        for i in range(permutations):
            stats[i] = 2 * s[rng.permutation(len(s))[:n]].sum() - total
    at_least = int((stats >= observed - tolerance).sum())
    return (at_least + 1) / (len(stats) + 1), exact


def weat_effect_size_interval(
    X: np.ndarray, Y: np.ndarray, A: np.ndarray, B: np.ndarray, *, reps: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile-bootstrap interval of d, resampling the items of X, Y, A and B independently."""
    import numpy as np

    X, Y, A, B = (_unit(np.asarray(m, dtype=float)) for m in (X, Y, A, B))
    xa, xb, ya, yb = X @ A.T, X @ B.T, Y @ A.T, Y @ B.T
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(reps):
        ix, iy = rng.integers(0, len(X), len(X)), rng.integers(0, len(Y), len(Y))
        ia, ib = rng.integers(0, len(A), len(A)), rng.integers(0, len(B), len(B))
        sx = xa[np.ix_(ix, ia)].mean(axis=1) - xb[np.ix_(ix, ib)].mean(axis=1)
        sy = ya[np.ix_(iy, ia)].mean(axis=1) - yb[np.ix_(iy, ib)].mean(axis=1)
        spread = np.concatenate([sx, sy]).std(ddof=1)
        if spread > 0:
            draws.append((sx.mean() - sy.mean()) / spread)
    if not draws:
        return 0.0, 0.0
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


class EmbeddingAssociation(Evaluator):
    name = "embedding_association"
    description = "WEAT/SEAT effect size (Caliskan et al. 2017; May et al. 2019) and permutation p-value."
    needs = "embeddings"
    metrics = {
        "effect_size": MetricSpec(None, "WEAT/SEAT effect size d (signed; positive = X closer to A)"),
        "abs_effect_size": MetricSpec(False, "|d|: strength of the association regardless of direction"),
        "p_value": MetricSpec(True, "one-sided permutation-test p-value, (k + 1) / (N + 1) (small = significant)"),
    }
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "test": {"type": "string", "enum": ["weat1", "weat2", "weat6", "weat7", "weat8"]},
            "X": _word_list,
            "Y": _word_list,
            "A": _word_list,
            "B": _word_list,
            "mode": {"type": "string", "enum": ["weat", "seat"]},
            "templates": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": r"\{word\}"}},
            "permutations": {"type": "integer", "minimum": 100, "maximum": 1_000_000},
            "seed": {"type": "integer"},
            "model_path": {"type": "string"},
            "request_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
        },
        "dependentRequired": {"X": ["Y", "A", "B"], "Y": ["X", "A", "B"], "A": ["X", "Y", "B"], "B": ["X", "Y", "A"]},
    }

    def run(self, context: EvaluationContext) -> EvaluationResult:
        import numpy as np

        config = context.config
        sets = data_json("weat_sets.json")
        if config.get("X"):
            words = {key: config[key] for key in "XYAB"}
            source = "suite configuration"
        else:
            test = config.get("test", "weat6")
            words = {key: sets[test][key] for key in "XYAB"}
            source = f"{test}: {sets[test]['description']} ({sets['_source']})"
        if len(words["X"]) != len(words["Y"]):
            raise ValueError("X and Y must have the same number of words for the permutation test.")
        mode = config.get("mode", "weat")
        templates = config.get("templates") or sets["seat_templates"]
        vectors: dict[str, np.ndarray] = {}
        for step, key in enumerate("XYAB"):
            if mode == "seat":  # every sentence is an item (May et al.), not averaged per word
                texts = [t.replace("{word}", w) for w in words[key] for t in templates]
                vectors[key] = np.asarray(context.adapter.embed(texts), dtype=float)
            else:
                vectors[key] = np.asarray(context.adapter.embed(list(words[key])), dtype=float)
            context.progress((step + 1) / 5)
        d = weat_effect_size(vectors["X"], vectors["Y"], vectors["A"], vectors["B"])
        permutations = config.get("permutations", 10_000)
        p, exact = weat_p_value(
            vectors["X"],
            vectors["Y"],
            vectors["A"],
            vectors["B"],
            permutations=permutations,
            seed=config.get("seed", 0),
        )
        seed = config.get("seed", 0)
        low, high = weat_effect_size_interval(vectors["X"], vectors["Y"], vectors["A"], vectors["B"], seed=seed)
        abs_low = 0.0 if low <= 0 <= high else min(abs(low), abs(high))
        items = 2 * len(vectors["X"])
        context.progress(1.0)
        return EvaluationResult(
            metrics={
                "effect_size": Estimate(d, items, low, high, "percentile bootstrap over items (1000, seeded)"),
                "abs_effect_size": Estimate(
                    abs(d), items, abs_low, max(abs(low), abs(high)), "|bootstrap interval of d|"
                ),
                "p_value": Estimate(p, items, None, None, "permutation test, (k + 1) / (N + 1)"),
            },
            samples=[{"set": key, "words": words[key][:10]} for key in "XYAB"],
            details={
                "method": "WEAT effect size and one-sided permutation test (Caliskan et al. 2017)"
                + ("; SEAT, each template sentence an item (May et al. 2019)" if mode == "seat" else "")
                + "; p = (k + 1) / (N + 1); bootstrap interval on d over items",
                "word_sets": source,
                "mode": mode,
                "permutations": "exact" if exact else permutations,
                "items": "sentences" if mode == "seat" else "words",
                "intervals": {
                    "effect_size": {"n": items, "ci_low": low, "ci_high": high},
                    "abs_effect_size": {"n": items, "ci_low": abs_low, "ci_high": max(abs(low), abs(high))},
                },
            },
        )
