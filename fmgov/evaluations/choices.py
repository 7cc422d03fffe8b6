"""Run states, finding statuses and severities, with their transition tables."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["RunState", "RUN_FINAL_STATES", "FindingStatus", "FINDING_TRANSITIONS", "Severity", "THRESHOLD_OPS"]


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


RUN_FINAL_STATES = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED})


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


FINDING_TRANSITIONS: dict[str, set[str]] = {
    FindingStatus.OPEN: {FindingStatus.ACKNOWLEDGED, FindingStatus.RESOLVED},
    FindingStatus.ACKNOWLEDGED: {FindingStatus.RESOLVED},
    FindingStatus.RESOLVED: set(),
}


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# Threshold operators: the metric value must satisfy ``value <op> threshold`` to pass.
THRESHOLD_OPS = {
    ">=": lambda value, limit: value >= limit,
    "<=": lambda value, limit: value <= limit,
    ">": lambda value, limit: value > limit,
    "<": lambda value, limit: value < limit,
}
