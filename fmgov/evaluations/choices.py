"""Run states and threshold operators; severities are the findings app's (a breach opens a finding)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from fmgov.findings.choices import Severity

__all__ = ["RunState", "RUN_FINAL_STATES", "Severity", "THRESHOLD_OPS", "THRESHOLD_BOUNDS"]


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


RUN_FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})


# Threshold operators: the metric value must satisfy ``value <op> threshold`` to pass.
THRESHOLD_OPS = {
    ">=": lambda value, limit: value >= limit,
    "<=": lambda value, limit: value <= limit,
    ">": lambda value, limit: value > limit,
    "<": lambda value, limit: value < limit,
}

# The interval bound a threshold may be judged on ("on"); without it the estimate is judged.
THRESHOLD_BOUNDS = ("upper", "lower")
