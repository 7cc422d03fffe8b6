"""Reporting deadlines by regime and harm category: configuration, each with its legal source.

``settings.INCIDENT_DEADLINES`` (same shape) replaces these defaults. Days count from when the organisation
became aware of the incident (``aware_at``). Article 55(1)(c) says only "without undue delay"; the days under
it are the GPAI Code of Practice's timelines (Safety and Security chapter, Commitment 9, Measure 9.3), taken
here as configuration, not as law.
"""

from datetime import timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.core import checks

from fmgov.incidents.choices import Regime

__all__ = [
    "Deadline",
    "DEFAULT_DEADLINES",
    "deadlines",
    "deadline_for",
    "REMINDER_BEFORE_DUE",
    "check_incident_deadlines",
]


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
    """The configured table (``INCIDENT_DEADLINES``, JSON in the environment), read at call time."""
    return getattr(settings, "INCIDENT_DEADLINES", None) or DEFAULT_DEADLINES


def deadline_for(regime: str, category: str) -> Deadline | None:
    return deadlines().get(regime, {}).get(category)


#: Art. 73's upper bound: no category of a high-risk system's incident may be reported later than this.
ART73_MAX_DAYS = 15
CATEGORY_MAX_LENGTH = 50  # Incident.harm_category


def _table_problems(table: Any) -> list[str]:
    from fmgov.incidents.choices import Regime

    if not isinstance(table, dict):
        return [f"must be a JSON object of regimes, not {type(table).__name__}"]
    problems = []
    for regime, categories in table.items():
        if regime not in Regime.values:
            problems.append(f"unknown regime {regime!r} (one of {', '.join(Regime.values)})")
            continue
        if not isinstance(categories, dict) or not categories:
            problems.append(f"{regime}: give an object of harm categories")
            continue
        for category, deadline in categories.items():
            where = f"{regime}.{category}"
            if not category or len(category) > CATEGORY_MAX_LENGTH:
                problems.append(f"{where}: a category name of 1 to {CATEGORY_MAX_LENGTH} characters")
            if not isinstance(deadline, dict) or set(deadline) != {"days", "source"}:
                problems.append(f'{where}: give {{"days": N, "source": "..."}}')
                continue
            days, source = deadline["days"], deadline["source"]
            if not isinstance(days, int) or isinstance(days, bool) or days < 1:
                problems.append(f"{where}: days must be a whole number of at least 1, not {days!r}")
            elif regime == Regime.HIGH_RISK_ART73 and days > ART73_MAX_DAYS:
                problems.append(f"{where}: EU AI Act Art. 73(2) allows at most {ART73_MAX_DAYS} days, not {days}")
            if not isinstance(source, str) or not source.strip():
                problems.append(f"{where}: cite the legal source of the deadline")
    return problems


def check_incident_deadlines(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``manage.py check``: a configured deadline table is well formed, cites its sources and keeps Art. 73's bound."""
    table = getattr(settings, "INCIDENT_DEADLINES", None)
    if not table:
        return []
    return [checks.Error(f"INCIDENT_DEADLINES: {problem}.", id="incidents.E001") for problem in _table_problems(table)]
