"""Incidents built through the services, as every real caller does."""

from datetime import timedelta

from django.utils import timezone

from fmgov.incidents import services
from fmgov.incidents.models import Incident


def open_incident(
    actor, *, deployments=(), models=(), aware_ago=timedelta(hours=1), regime="high_risk_art73", **overrides
) -> Incident:
    """An incident that occurred two hours ago and was noticed ``aware_ago`` ago, under Art. 73(2) by default."""
    now = timezone.now()
    values = {
        "summary": "Chatbot gave a dosage ten times too high",
        "description": "Reported by a pharmacist.",
        "occurred_at": now - aware_ago - timedelta(hours=1),
        "aware_at": now - aware_ago,
        "regime": regime,
        "harm_category": "serious_incident" if regime == "high_risk_art73" else "serious_harm",
    }
    values.update(overrides)
    return services.incident_open(actor=actor, deployments=deployments, foundation_models=models, **values)
