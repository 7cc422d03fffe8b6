"""What a confirmed incident takes out of service: its deployments, and approvals down their lineage.

The same path a breach of a required suite takes (``fmgov.evaluations.services.findings``): every approved
review of an affected deployment is revoked through ``review_revoke``, which withdraws the deployment's
approval once nothing covers it (live → suspended, approved → proposed), so each needs a new review. The
deployments named in the incident are suspended even when no review covered them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fmgov.incidents.models import Incident
from fmgov.registry.models import Deployment

__all__ = ["affected_deployments", "suspend_involved"]


def affected_deployments(incident: Incident) -> QuerySet[Deployment]:
    """The deployments involved and every deployment downstream of their targets and of the models involved."""
    from fmgov.registry.selectors import deployments_affected_by

    query = Q(pk__in=[d.pk for d in incident.deployments.all()])
    for deployment in incident.deployments.all():
        if deployment.foundation_model_id:
            reach = deployments_affected_by(model_id=deployment.foundation_model_id)
        else:
            reach = deployments_affected_by(adaptation_id=deployment.adaptation_id)
        query |= Q(pk__in=reach.values("pk"))
    for model_id in incident.foundation_models.values_list("pk", flat=True):
        query |= Q(pk__in=deployments_affected_by(model_id=model_id).values("pk"))
    return Deployment.objects.filter(query).order_by("pk")


def suspend_involved(incident: Incident) -> tuple[list[int], list[int]]:
    """Revoke every approval down the lineage, then withdraw what is still approved or live.

    Returns the revoked reviews and the deployments whose status changed.
    """
    from fmgov.incidents.services import SYSTEM
    from fmgov.registry.services import deployment_withdraw_approval
    from fmgov.reviews.selectors import current_approved_review
    from fmgov.reviews.services import review_revoke

    reason = f"Serious incident #{incident.pk}: {incident.summary}"
    affected = list(affected_deployments(incident))
    before = {deployment.pk: deployment.status for deployment in affected}
    revoked: list[int] = []
    for deployment in affected:
        while (review := current_approved_review(deployment)) is not None:
            review_revoke(review=review, actor=None, system=SYSTEM, reason=reason)
            revoked.append(review.pk)
    for deployment in incident.deployments.order_by("pk"):
        deployment_withdraw_approval(deployment=deployment, actor=None, reason=reason, system=SYSTEM)
    after = dict(Deployment.objects.filter(pk__in=before).values_list("pk", "status"))
    return revoked, sorted(pk for pk, status in after.items() if status != before[pk])
