"""Questions the registry asks apps above it; they answer in their ``AppConfig.ready()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fmgov.core.hooks import Hook

if TYPE_CHECKING:
    from fmgov.registry.models import Deployment

__all__ = [
    "deployment_approval_blocker",
    "deployment_reviews",
    "deployment_evaluation_panel",
    "deployment_handover_schedules",
    "deployment_handover_incidents",
    "DEPLOYMENT_HANDOVERS",
]

#: Why a deployment may not go live (None when a valid approval holds). Answered by the reviews app.
deployment_approval_blocker: Hook[[Deployment], str | None] = Hook(
    "registry.deployment_approval_blocker", answered_by="fmgov.reviews"
)

#: The deployment's risk reviews, newest first, for its page. Answered by the reviews app.
deployment_reviews: Hook[[Deployment], list[Any]] = Hook("registry.deployment_reviews", answered_by="fmgov.reviews")

#: The evaluation panel of the deployment's page (schedules, trend charts, findings). Answered by the evaluations app.
deployment_evaluation_panel: Hook[[Deployment], dict[str, Any]] = Hook(
    "registry.deployment_evaluation_panel", answered_by="fmgov.evaluations"
)

#: Move the evaluation schedules of a deployment to the revision replacing it (old, new, actor), inside the
#: revision's go-live transaction, one audit event per schedule; returns the ids moved. Answered by evaluations.
deployment_handover_schedules: Hook[[Deployment, Deployment, Any], list[int]] = Hook(
    "registry.deployment_handover_schedules", answered_by="fmgov.evaluations"
)

#: Add the revision to the deployment's open serious incidents (old, new, actor), in the same transaction, one audit
#: event per incident; returns the ids. Answered by the incidents app.
deployment_handover_incidents: Hook[[Deployment, Deployment, Any], list[int]] = Hook(
    "registry.deployment_handover_incidents", answered_by="fmgov.incidents"
)

#: Every hand-over a revision's go-live runs, by name (the key in the retirement event's context). An app above
#: that keeps open work per deployment (incidents, say) declares its hook here with the same signature.
DEPLOYMENT_HANDOVERS: dict[str, Hook[[Deployment, Deployment, Any], list[int]]] = {
    "schedules": deployment_handover_schedules,
    "incidents": deployment_handover_incidents,
}
