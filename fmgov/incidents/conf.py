"""Reporting deadlines by regime and harm category: configuration, each with its legal source.

``settings.INCIDENT_DEADLINES`` (same shape) replaces these defaults. Days count from when the organisation
became aware of the incident (``aware_at``). Article 55(1)(c) says only "without undue delay"; the days under
it are the GPAI Code of Practice's timelines (Safety and Security chapter, Commitment 9, Measure 9.3), taken
here as configuration, not as law.
"""

from datetime import timedelta
from typing import TypedDict

from django.conf import settings

from fmgov.incidents.choices import Regime

__all__ = ["Deadline", "DEFAULT_DEADLINES", "deadlines", "deadline_for", "REMINDER_BEFORE_DUE"]


class Deadline(TypedDict):
    days: int
    source: str


_CODE = "GPAI Code of Practice, Safety and Security, Measure 9.3 (configured timeline)"

DEFAULT_DEADLINES: dict[str, dict[str, Deadline]] = {
    Regime.HIGH_RISK_ART73: {
        "serious_incident": {"days": 15, "source": "EU AI Act Art. 73(2)"},
        "widespread_infringement": {"days": 2, "source": "EU AI Act Art. 73(3)"},
        "critical_infrastructure": {"days": 2, "source": "EU AI Act Art. 73(3)"},
        "death": {"days": 10, "source": "EU AI Act Art. 73(4)"},
    },
    Regime.GPAI_SYSTEMIC_ART55: {
        "serious_harm": {"days": 15, "source": f"EU AI Act Art. 55(1)(c); {_CODE}"},
        "cybersecurity_breach": {"days": 5, "source": f"EU AI Act Art. 55(1)(c); {_CODE}"},
        "death": {"days": 10, "source": f"EU AI Act Art. 55(1)(c); {_CODE}"},
        "critical_infrastructure": {"days": 2, "source": f"EU AI Act Art. 55(1)(c); {_CODE}"},
    },
}

#: The second reminder goes out this long before the deadline (the first at half time).
REMINDER_BEFORE_DUE = timedelta(days=1)


def deadlines() -> dict[str, dict[str, Deadline]]:
    """The configured table, read at call time so that tests and deployments can override it."""
    return getattr(settings, "INCIDENT_DEADLINES", None) or DEFAULT_DEADLINES


def deadline_for(regime: str, category: str) -> Deadline | None:
    return deadlines().get(regime, {}).get(category)
