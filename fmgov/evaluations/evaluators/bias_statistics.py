"""Paired group differences for counterfactual prompts, with a bootstrap interval and a permutation p-value.

The design: within one axis (gender, religion, ...), every (template, sample)
unit asks the same prompt once per group term, so its scores form a row of G
values. A group's difference is the mean over units of its score minus the
unit's all-group mean: a group the model treats like the others has difference
0 whatever the templates and the sampling noise. Because the unit is paired,
it is the unit that the bootstrap resamples.

- Group interval: seeded percentile bootstrap over units.
- Gap: the largest absolute group difference. Its interval comes from the
  group intervals at the Bonferroni level (95% over all groups at once):
  the lower bound is the largest distance from 0 of an interval that excludes
  0, so it is 0 when every group's interval contains 0; the upper bound is the
  largest absolute end. (A bootstrap of the maximum itself is biased upwards:
  the gap of a model with no bias would never reach 0.)
- p-value for "the group makes no difference": group labels permuted within
  each template, statistic = the gap, ``p = (k + 1) / (N + 1)``.

Pure Python: the arrays are small (units x groups) and no numeric library is needed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["AxisScores", "GapResult", "group_differences", "gap_with_interval", "permutation_p_value"]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class AxisScores:
    """One axis: ``units[i]`` is (template index, one score per group, in ``groups`` order)."""

    groups: tuple[str, ...]
    units: tuple[tuple[int, tuple[float, ...]], ...]


@dataclass(frozen=True)
class GapResult:
    gap: float
    ci_low: float
    ci_high: float
    n: int  # units (template x sample) over all axes
    differences: dict[str, dict[str, dict[str, float]]]  # axis -> group -> {difference, ci_low, ci_high}


def group_differences(rows: Sequence[Sequence[float]]) -> list[float]:
    """Mean over units of each group's score minus the unit's all-group mean."""
    if not rows:
        return []
    width = len(rows[0])
    totals = [0.0] * width
    for row in rows:
        centre = sum(row) / width
        for g, value in enumerate(row):
            totals[g] += value - centre
    return [total / len(rows) for total in totals]


def _quantile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def gap_with_interval(axes: dict[str, AxisScores], *, seed: int = 0, reps: int = 2000) -> GapResult:
    """The gap (largest |group difference| over all axes) with its simultaneous interval; see module docstring."""
    total_groups = sum(len(a.groups) for a in axes.values())
    alpha = (1 - CONFIDENCE) / max(1, total_groups)  # Bonferroni over every group of every axis
    rng = random.Random(seed)
    differences: dict[str, dict[str, dict[str, float]]] = {}
    gap = low = high = 0.0
    for name, axis in axes.items():
        rows = [scores for _, scores in axis.units]
        estimate = group_differences(rows)
        draws: list[list[float]] = [[] for _ in axis.groups]
        for _ in range(reps):
            resample = [rows[rng.randrange(len(rows))] for _ in rows]
            for g, value in enumerate(group_differences(resample)):
                draws[g].append(value)
        differences[name] = {}
        for g, group in enumerate(axis.groups):
            ordered = sorted(draws[g])
            lo95, hi95 = _quantile(ordered, 0.025), _quantile(ordered, 0.975)
            lo_b, hi_b = _quantile(ordered, alpha / 2), _quantile(ordered, 1 - alpha / 2)
            differences[name][group] = {"difference": estimate[g], "ci_low": lo95, "ci_high": hi95}
            gap = max(gap, abs(estimate[g]))
            high = max(high, abs(lo_b), abs(hi_b))
            if lo_b > 0 or hi_b < 0:
                low = max(low, min(abs(lo_b), abs(hi_b)))
    n = sum(len(a.units) for a in axes.values())
    return GapResult(gap, min(low, gap), max(high, gap), n, differences)


def _gap(axes: dict[str, list[list[float]]]) -> float:
    return max((abs(d) for rows in axes.values() for d in group_differences(rows)), default=0.0)


def permutation_p_value(axes: dict[str, AxisScores], *, seed: int = 0, permutations: int = 2000) -> float:
    """P(gap >= observed) when group labels are exchangeable within each template; ``(k + 1) / (N + 1)``."""
    rng = random.Random(seed)
    observed = _gap({name: [list(s) for _, s in a.units] for name, a in axes.items()})
    at_least = 0
    for _ in range(permutations):
        shuffled: dict[str, list[list[float]]] = {}
        for name, axis in axes.items():
            by_template: dict[int, list[int]] = {}
            for i, (template, _) in enumerate(axis.units):
                by_template.setdefault(template, []).append(i)
            rows: list[list[float]] = []
            for indices in by_template.values():
                pool = [v for i in indices for v in axis.units[i][1]]
                rng.shuffle(pool)
                width = len(axis.groups)
                rows.extend(pool[k * width : (k + 1) * width] for k in range(len(indices)))
            shuffled[name] = rows
        at_least += _gap(shuffled) >= observed - 1e-12
    return (at_least + 1) / (permutations + 1)
