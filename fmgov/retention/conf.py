"""Retention periods per record class, from settings, and the start-up check that none is below the law's floor.

EU AI Act Article 26(6): deployers keep the logs a high-risk AI system generates for at least six months. The
runs, reports and attachments fmgov keeps are those logs and the evidence around them, so no class may be kept
for less than ``MINIMUM_DAYS`` (183 days). The audit trail is not a record class
here: it is never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

__all__ = ["MINIMUM_DAYS", "RECORD_CLASSES", "SETTING_OF", "retention_days", "check_retention_settings"]

#: Art. 26(6)'s "at least six months" in days: half a year of 365 days, rounded up.
MINIMUM_DAYS = 183

RUNS, REPORTS, ATTACHMENTS = "runs", "reports", "attachments"
RECORD_CLASSES = (RUNS, REPORTS, ATTACHMENTS)
SETTING_OF = {
    RUNS: "RETENTION_DAYS_RUNS",
    REPORTS: "RETENTION_DAYS_REPORTS",
    ATTACHMENTS: "RETENTION_DAYS_ATTACHMENTS",
}


def retention_days(record_class: str) -> int:
    """The configured period of one record class, in days."""
    return int(getattr(settings, SETTING_OF[record_class]))


def check_retention_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check`` (and every command that runs the checks, migrate included): refuse a short period."""
    errors = []
    for record_class, name in SETTING_OF.items():
        value = getattr(settings, name, None)
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(checks.Error(f"{name} must be a whole number of days, not {value!r}.", id="retention.E001"))
        elif value < MINIMUM_DAYS:
            errors.append(
                checks.Error(
                    f"{name}={value}: {record_class} must be kept at least {MINIMUM_DAYS} days "
                    "(EU AI Act Art. 26(6): logs at least six months).",
                    id="retention.E002",
                )
            )
    return errors
