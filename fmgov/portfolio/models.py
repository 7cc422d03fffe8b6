"""Portfolio-wide risk settings and the findings the portfolio check opens."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fmgov.core.models import AuditedModel
from fmgov.portfolio.choices import PortfolioFindingKind, PortfolioFindingStatus


class PortfolioSettings(AuditedModel):
    """One row (pk=1), edited by admins through ``portfolio_settings_update``."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    hhi_alert_threshold = models.FloatField(
        _("HHI alert threshold"),
        default=2500,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
        help_text=_("A provider HHI above this opens a concentration finding."),
    )
    single_point_of_failure_share = models.FloatField(
        _("single point of failure share"),
        default=0.25,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_("A foundation model whose revocation would take down more than this share of live deployments."),
    )
    grid_intensity_gco2e_per_kwh = models.FloatField(
        _("default grid intensity (gCO2e/kWh)"),
        default=400,
        validators=[MinValueValidator(0)],
        help_text=_("Used when a latency_energy run reports energy but no emissions."),
    )

    class Meta:
        verbose_name = _("portfolio settings")
        verbose_name_plural = _("portfolio settings")

    def __str__(self) -> str:
        return "portfolio settings"


class PortfolioFinding(AuditedModel):
    kind = models.CharField(_("kind"), max_length=40, choices=PortfolioFindingKind.choices)
    subject = models.CharField(_("subject"), max_length=300, help_text=_("The provider or foundation model concerned."))
    foundation_model = models.ForeignKey(
        "registry.FoundationModel", null=True, blank=True, on_delete=models.PROTECT, related_name="portfolio_findings"
    )
    value = models.FloatField(_("value"))
    threshold = models.FloatField(_("threshold"))
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PortfolioFindingStatus.choices,
        default=PortfolioFindingStatus.OPEN,
        db_index=True,
    )
    note = models.TextField(_("note"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("portfolio finding")
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one finding still open per kind and subject: a daily check does not pile up duplicates.
            models.UniqueConstraint(
                fields=["kind", "subject"],
                condition=models.Q(status__in=["open", "acknowledged"]),
                name="portfolio_finding_one_open_per_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"
