"""Audit reports: one row per requested PDF, watched by the requester while a worker renders it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from reports.choices import DocumentationAudience, ReportKind, ReportState


class Report(AuditedModel):
    kind = models.CharField(_("kind"), max_length=30, choices=ReportKind.choices)
    deployment = models.ForeignKey(
        "registry.Deployment", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    # The subject of a documentation export: a foundation model or an adaptation (exactly one).
    foundation_model = models.ForeignKey(
        "registry.FoundationModel", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    adaptation = models.ForeignKey(
        "registry.Adaptation", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    audience = models.CharField(_("audience"), max_length=30, choices=DocumentationAudience.choices, blank=True)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports")
    state = models.CharField(
        _("state"), max_length=20, choices=ReportState.choices, default=ReportState.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("render attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to="reports/", max_length=300, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    audit_head_seq = models.BigIntegerField(_("audit-trail head sequence"), null=True, blank=True)
    audit_head_hash = models.CharField(_("audit-trail head hash"), max_length=64, blank=True)
    render_log = models.JSONField(
        _("render log"), default=dict, blank=True, help_text=_("Timings and every URL the renderer refused.")
    )

    class Meta:
        verbose_name = _("audit report")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=ReportKind.DEPLOYMENT_DOSSIER) & Q(deployment__isnull=False))
                | (
                    Q(kind=ReportKind.PERIOD_SUMMARY)
                    & Q(period_start__isnull=False)
                    & Q(period_end__isnull=False)
                    & Q(period_start__lte=models.F("period_end"))
                )
                | (Q(kind=ReportKind.INCIDENT_REPORT) & Q(incident__isnull=False))
                | (
                    Q(kind=ReportKind.MODEL_DOCUMENTATION)
                    & ~Q(audience="")
                    & (
                        (Q(foundation_model__isnull=False) & Q(adaptation__isnull=True))
                        | (Q(foundation_model__isnull=True) & Q(adaptation__isnull=False))
                    )
                )
                | (
                    Q(kind=ReportKind.DOWNSTREAM_INFORMATION)
                    & (
                        (Q(foundation_model__isnull=False) & Q(adaptation__isnull=True))
                        | (Q(foundation_model__isnull=True) & Q(adaptation__isnull=False))
                    )
                ),
                name="report_kind_has_its_subject",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (#{self.pk})"

    @property
    def title(self) -> str:
        if self.kind == ReportKind.DEPLOYMENT_DOSSIER and self.deployment_id:
            return f"Deployment dossier: {self.deployment.name}"
        if self.kind == ReportKind.INCIDENT_REPORT and self.incident_id:
            return f"Serious-incident report: incident #{self.incident_id}"
        if self.kind == ReportKind.PERIOD_SUMMARY:
            return f"Period summary {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"
        return str(self.get_kind_display())

    @property
    def download_filename(self) -> str:
        from django.utils.text import slugify

        if self.kind == ReportKind.DEPLOYMENT_DOSSIER:
            subject = slugify(self.deployment.name) or f"deployment-{self.deployment_id}"
            return f"fmgov-dossier-{subject}-report-{self.pk}.pdf"
        if self.kind == ReportKind.INCIDENT_REPORT:
            return f"fmgov-incident-{self.incident_id}-report-{self.pk}.pdf"
        if self.kind != ReportKind.PERIOD_SUMMARY:
            subject = self.foundation_model or self.adaptation
            name = slugify(f"{subject.name} {subject.version}") if subject else "subject"
            return f"fmgov-{self.kind.replace('_', '-')}-{name}-report-{self.pk}.pdf"
        return f"fmgov-period-summary-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}-report-{self.pk}.pdf"
