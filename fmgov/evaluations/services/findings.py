"""Findings: opened on a threshold breach (revoking approvals downstream in the lineage), then triaged."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.evaluations.choices import FINDING_TRANSITIONS, FindingStatus, Severity
from fmgov.evaluations.models import EvaluationRun, Finding, RunMetric
from fmgov.evaluations.services.common import SYSTEM


def _open_finding(run: EvaluationRun, metric: RunMetric) -> Finding:
    finding = Finding.objects.create(
        run=run,
        deployment=run.deployment,
        metric=metric.name,
        value=metric.value,
        threshold=metric.threshold,
        severity=metric.threshold.get("severity", Severity.HIGH),
    )
    audit_record(
        action="finding.open",
        system=SYSTEM,
        obj=finding,
        changes={
            "run": run.pk,
            "deployment": run.deployment_id,
            "metric": metric.name,
            "value": metric.value,
            "threshold": metric.threshold,
        },
    )
    revoked = _revoke_downstream_approvals(finding)
    from fmgov.evaluations import tasks

    transaction.on_commit(lambda: tasks.notify_finding.delay(finding.pk, revoked))
    return finding


def _revoke_downstream_approvals(finding: Finding) -> list[int]:
    """Revoke the current approved review of the deployment and of every deployment downstream of its target."""
    from fmgov.registry.selectors import deployments_affected_by
    from fmgov.reviews.selectors import current_approved_review
    from fmgov.reviews.services import review_revoke

    deployment = finding.deployment
    if deployment.foundation_model_id:
        affected = deployments_affected_by(model_id=deployment.foundation_model_id)
    else:
        affected = deployments_affected_by(adaptation_id=deployment.adaptation_id)
    revoked = []
    reason = (
        f"Evaluation finding #{finding.pk}: {finding.metric} = {finding.value:g} breaches "
        f"{finding.threshold['op']} {finding.threshold['value']} on deployment {deployment} (run #{finding.run_id})."
    )
    for target in affected.order_by("pk"):
        review = current_approved_review(target)
        if review is None:
            continue
        review_revoke(review=review, actor=None, system=SYSTEM, reason=reason, finding=finding)
        revoked.append(review.pk)
    return revoked


def _finding_transition(*, finding: Finding, actor, to: str, note: str, action: str) -> Finding:
    finding = Finding.objects.select_for_update().select_related("deployment").get(pk=finding.pk)
    if to not in FINDING_TRANSITIONS[finding.status]:
        raise TransitionNotAllowed(f"A finding that is {finding.status} cannot become {to}.")
    before = finding.status
    now = timezone.now()
    finding.status = to
    if note:
        finding.note = note
    if to == FindingStatus.ACKNOWLEDGED:
        finding.acknowledged_by, finding.acknowledged_at = actor, now
    else:
        finding.resolved_by, finding.resolved_at = actor, now
    finding.save()
    audit_record(action=action, actor=actor, obj=finding, changes={"status": [before, to], "note": note})
    return finding


@transaction.atomic
def finding_acknowledge(*, finding: Finding, actor, note: str = "") -> Finding:
    """By a reviewer, an admin or the deployment's owner."""
    if not (has_role(actor, Role.REVIEWER, Role.ADMIN) or finding.deployment.owner_id == actor.pk):
        raise NotAllowed("Only reviewers, admins and the deployment's owner may acknowledge a finding.")
    return _finding_transition(
        finding=finding, actor=actor, to=FindingStatus.ACKNOWLEDGED, note=note, action="finding.acknowledge"
    )


@transaction.atomic
def finding_resolve(*, finding: Finding, actor, note: str = "") -> Finding:
    """By a reviewer or an admin, with a note saying how it was resolved."""
    if not has_role(actor, Role.REVIEWER, Role.ADMIN):
        raise NotAllowed("Only reviewers and admins may resolve a finding.")
    if not note.strip():
        raise InvalidInput("Say how it was resolved.", field_errors={"note": ["Say how the finding was resolved."]})
    return _finding_transition(
        finding=finding, actor=actor, to=FindingStatus.RESOLVED, note=note, action="finding.resolve"
    )
