"""Report kinds and states, and the state transition table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    DEPLOYMENT_DOSSIER = "deployment_dossier", _("Deployment dossier")
    PERIOD_SUMMARY = "period_summary", _("Period summary")


class ReportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


REPORT_TRANSITIONS: dict[str, set[str]] = {
    ReportState.QUEUED: {ReportState.RUNNING, ReportState.FAILED},
    ReportState.RUNNING: {
        ReportState.SUCCEEDED,
        ReportState.FAILED,
        ReportState.QUEUED,
    },  # queued: re-queued by the sweep
    ReportState.SUCCEEDED: set(),
    ReportState.FAILED: set(),
}
