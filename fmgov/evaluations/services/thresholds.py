"""Judging a metric against the board's threshold, on its estimate or on a bound of its 95% interval.

``{"op": "<=", "value": 0.05, "on": "upper"}`` passes only if the upper bound
satisfies the rule (conservative: the metric is good even at its worst
plausible value); ``"on": "lower"`` judges the lower bound, so it breaches only
if even the lower bound fails (benefit of the doubt); without ``on`` the
estimate itself is judged. A metric whose value is insufficient, or that has no
interval when a bound is asked for, cannot be judged: the verdict is None and
the run inconclusive.
"""

from __future__ import annotations

from typing import Any

from fmgov.evaluations.choices import THRESHOLD_BOUNDS, THRESHOLD_OPS
from fmgov.evaluations.evaluators.base import Estimate

__all__ = ["THRESHOLD_BOUNDS", "judged_value", "threshold_judge"]


def judged_value(rule: dict[str, Any], estimate: Estimate) -> float | None:
    """The number the rule is judged on: the estimate, or the interval bound it names."""
    if estimate.insufficient or estimate.value is None:
        return None
    on = rule.get("on")
    if on == "upper":
        return estimate.ci_high
    if on == "lower":
        return estimate.ci_low
    return estimate.value


def threshold_judge(rule: dict[str, Any] | None, estimate: Estimate) -> bool | None:
    """True (passes), False (breached) or None (no rule, or the metric cannot be judged)."""
    if not rule:
        return None
    value = judged_value(rule, estimate)
    if value is None:
        return None
    return bool(THRESHOLD_OPS[rule["op"]](value, rule["value"]))
