"""A serious incident: what happened, when the organisation knew, what it touched, and the legal clock.

Fields follow EU AI Act Article 73 (high-risk AI systems) and Article 55(1)(c) (GPAI models with systemic
risk): the report is due a configured number of days after awareness (``report_due_at``, set by the service
from ``fmgov.incidents.conf``), the status records when it was reported, and corrective measures and root
cause are the follow-up Article 73(6) asks for.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel
from fmgov.incidents.choices import IncidentStatus, Regime

__all__ = ["Incident"]


class Incident(AuditedModel):
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("what happened"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    aware_at = models.DateTimeField(_("organisation aware at"), help_text=_("The clock of Art. 73 runs from here."))
    deployments = models.ManyToManyField(
        "registry.Deployment", blank=True, related_name="incidents", verbose_name=_("deployments involved")
    )
    foundation_models = models.ManyToManyField(
        "registry.FoundationModel", blank=True, related_name="incidents", verbose_name=_("models involved")
    )
    regime = models.CharField(_("regime"), max_length=30, choices=Regime.choices)
    harm_category = models.CharField(_("harm category"), max_length=50)
    deadline_days = models.PositiveSmallIntegerField(_("deadline (days)"))
    deadline_source = models.CharField(_("deadline's legal source"), max_length=200)
    report_due_at = models.DateTimeField(_("report due at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    reported_at = models.DateTimeField(_("reported to the authority at"), null=True, blank=True)
    corrective_measures = models.TextField(_("corrective measures"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    half_time_reminder_at = models.DateTimeField(_("half-time reminder sent at"), null=True, blank=True)
    last_day_reminder_at = models.DateTimeField(_("last-day reminder sent at"), null=True, blank=True)
    overdue_finding = models.ForeignKey(
        "findings.Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("serious incident")
        ordering = ["-aware_at", "-id"]
        indexes = [models.Index(fields=["status", "report_due_at"], name="incident_status_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(aware_at__gte=models.F("occurred_at")), name="incident_aware_after"
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["reported", "follow_up", "closed"])
                | models.Q(reported_at__isnull=False),
                name="incident_reported_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"incident {self.pk}: {self.summary}"
