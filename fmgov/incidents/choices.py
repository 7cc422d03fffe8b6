"""Regimes, harm categories and the incident workflow, in one place.

The reporting deadlines themselves are configuration (``fmgov.incidents.conf``): each regime's categories, their
number of days from awareness and the legal source of that number.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Regime", "IncidentStatus", "INCIDENT_TRANSITIONS", "CLOCK_RUNNING"]


class Regime(models.TextChoices):
    # Regulation (EU) 2024/1689, Article 73: serious incidents of high-risk AI systems.
    HIGH_RISK_ART73 = "high_risk_art73", _("High-risk AI system (EU AI Act Art. 73)")
    # Article 55(1)(c): serious incidents of general-purpose AI models with systemic risk.
    GPAI_SYSTEMIC_ART55 = "gpai_systemic_art55", _("GPAI model with systemic risk (EU AI Act Art. 55(1)(c))")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REPORTED = "reported", _("Reported")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")


INCIDENT_TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.OPEN: frozenset({IncidentStatus.REPORTED}),
    IncidentStatus.REPORTED: frozenset({IncidentStatus.FOLLOW_UP, IncidentStatus.CLOSED}),
    IncidentStatus.FOLLOW_UP: frozenset({IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

#: Until it is reported to the authority the legal clock runs: reminders, and a finding when it runs out.
CLOCK_RUNNING = (IncidentStatus.OPEN,)
