"""Bias in embedding models: the WEAT/SEAT effect size and its permutation-test p-value.

Caliskan, Bryson and Narayanan (2017) define, for target word sets X, Y and
attribute sets A, B, with cos the cosine similarity:

    s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)
    effect size d = (mean_{x in X} s(x) - mean_{y in Y} s(y)) / std_{w in X u Y} s(w)   (sample std)
    test statistic S = sum_{x in X} s(x) - sum_{y in Y} s(y)
    p = P[S(X_i, Y_i) > S(X, Y)] over equal-size partitions (X_i, Y_i) of X u Y.

May et al. (2019, SEAT) embed each word inside semantically bleached sentence
templates ("This is {word}.") and average, which suits sentence encoders;
``mode: "seat"`` does that, ``mode: "weat"`` embeds the bare words. The word
sets are the classic WEAT ones shipped in ``data/weat_sets.json`` (weat1,
weat2, weat6, weat7, weat8) or the suite's own ``X``/``Y``/``A``/``B``. The
p-value is exact when the partitions number at most ``permutations``, else
estimated from that many random partitions (seeded, so reproducible).
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import TYPE_CHECKING

from fmgov.evaluations.evaluators.base import EvaluationContext, EvaluationResult, Evaluator, MetricSpec, data_json

if TYPE_CHECKING:
    import numpy as np

__all__ = ["EmbeddingAssociation", "weat_effect_size", "weat_p_value"]

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
    if comb(len(s), n) <= permutations:
        stats = np.array([2 * s[list(idx)].sum() - total for idx in combinations(range(len(s)), n)])
        return float((stats > observed).mean()), True
    rng = np.random.default_rng(seed)
    stats = np.empty(permutations)
    for i in range(permutations):
        stats[i] = 2 * s[rng.permutation(len(s))[:n]].sum() - total
    return float((stats > observed).mean()), False


class EmbeddingAssociation(Evaluator):
    name = "embedding_association"
    description = "WEAT/SEAT effect size (Caliskan et al. 2017; May et al. 2019) and permutation p-value."
    needs = "embeddings"
    metrics = {
        "effect_size": MetricSpec(None, "WEAT/SEAT effect size d (signed; positive = X closer to A)"),
        "abs_effect_size": MetricSpec(False, "|d|: strength of the association regardless of direction"),
        "p_value": MetricSpec(True, "one-sided permutation-test p-value (small = significant association)"),
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
            if mode == "seat":
                texts = [t.replace("{word}", w) for w in words[key] for t in templates]
                flat = _unit(np.asarray(context.adapter.embed(texts), dtype=float))
                vectors[key] = flat.reshape(len(words[key]), len(templates), -1).mean(axis=1)
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
        context.progress(1.0)
        return EvaluationResult(
            metrics={"effect_size": d, "abs_effect_size": abs(d), "p_value": p},
            samples=[{"set": key, "words": words[key][:10]} for key in "XYAB"],
            details={
                "method": "WEAT effect size and one-sided permutation test (Caliskan et al. 2017)"
                + ("; SEAT sentence templates averaged (May et al. 2019)" if mode == "seat" else ""),
                "word_sets": source,
                "mode": mode,
                "permutations": "exact" if exact else permutations,
            },
        )
