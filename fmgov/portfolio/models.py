"""Portfolio-wide risk settings (the findings the portfolio check opens are ``findings.Finding``)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audits.base import AuditedModel


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
