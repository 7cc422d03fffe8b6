"""Where a finding comes from, how severe it is, and the one workflow every finding follows."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["FindingSource", "FindingState", "FINDING_TRANSITIONS", "ACTIVE_STATES", "Severity"]


class FindingSource(models.TextChoices):
    EVALUATION = "evaluation", _("Evaluation threshold breach")
    PORTFOLIO = "portfolio", _("Portfolio check")
    APPROVAL_DRIFT = "approval_drift", _("Approval drift")
    INCIDENT = "incident", _("Overdue incident")
    DOCUMENTATION = "documentation", _("Missing documentation")
    WITNESS = "witness", _("Failing witness")
    WEBHOOK = "webhook", _("Failing webhook")
    AUDIT_TRAIL = "audit_trail", _("Audit trail integrity")


class FindingState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


FINDING_TRANSITIONS: dict[str, frozenset[str]] = {
    FindingState.OPEN: frozenset({FindingState.ACKNOWLEDGED, FindingState.RESOLVED}),
    FindingState.ACKNOWLEDGED: frozenset({FindingState.RESOLVED}),
    FindingState.RESOLVED: frozenset(),
}

# A finding still asks for attention until it is resolved; a dedupe key is unique among these.
ACTIVE_STATES = (FindingState.OPEN, FindingState.ACKNOWLEDGED)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")
