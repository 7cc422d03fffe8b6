from django.db import models
from django.utils.translation import gettext_lazy as _


class ConcentrationBand(models.TextChoices):
    """The bands competition authorities use for the HHI (US DOJ/FTC 2010 merger guidelines)."""

    UNCONCENTRATED = "unconcentrated", _("Unconcentrated (HHI below 1,500)")
    MODERATE = "moderately_concentrated", _("Moderately concentrated (1,500 to 2,500)")
    HIGH = "highly_concentrated", _("Highly concentrated (above 2,500)")


class PortfolioFindingKind(models.TextChoices):
    CONCENTRATION = "concentration", _("Provider concentration above the alert threshold")
    SINGLE_POINT_OF_FAILURE = "single_point_of_failure", _("Single point of failure")


def band_for(hhi: float) -> str:
    if hhi < 1500:
        return ConcentrationBand.UNCONCENTRATED
    if hhi <= 2500:
        return ConcentrationBand.MODERATE
    return ConcentrationBand.HIGH
