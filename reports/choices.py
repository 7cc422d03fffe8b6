"""Report kinds and states, and the state transition table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    DEPLOYMENT_DOSSIER = "deployment_dossier", _("Deployment dossier")
    PERIOD_SUMMARY = "period_summary", _("Period summary")
    # A serious incident in the structure of the Commission's reporting template (EU AI Act Art. 73, 55(1)(c)).
    INCIDENT_REPORT = "incident_report", _("Serious-incident report")
    # Annex XI technical documentation of a model or adaptation, the fields of one audience (Art. 53(1)(a)).
    MODEL_DOCUMENTATION = "model_documentation", _("Model documentation")
    # Annex XII: the information a downstream provider receives (Art. 53(1)(b)).
    DOWNSTREAM_INFORMATION = "downstream_information", _("Downstream provider information")


class DocumentationAudience(models.TextChoices):
    """Who a model documentation export is for, as the Model Documentation Form marks each field."""

    AI_OFFICE = "ai_office", _("AI Office")
    NATIONAL_AUTHORITIES = "national_authorities", _("National competent authorities")
    DOWNSTREAM_PROVIDERS = "downstream_providers", _("Downstream providers")


#: Kinds whose subject is a model or an adaptation (exactly one of the two).
DOCUMENTATION_KINDS = (ReportKind.MODEL_DOCUMENTATION, ReportKind.DOWNSTREAM_INFORMATION)


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
