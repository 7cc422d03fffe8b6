"""Links between evaluations and reviews: evidence cited on review items, suites a review policy requires."""

from __future__ import annotations

from django.db import transaction

from audits.services import audit_record, created, deleted, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.evaluations.models import EvaluationRun, EvaluationSuite
from fmgov.evaluations.services.common import _ensure_deployment_owner, _ensure_engineer, _ensure_owner_or_admin
from fmgov.findings.models import Finding
from fmgov.findings.selectors import subject_type_for
from fmgov.reviews.services import review_evidence_changing


@transaction.atomic
def evidence_link_create(
    *, actor: Actor, review_item, run: EvaluationRun | None = None, finding: Finding | None = None, note: str = ""
):
    """Cite a run or a finding on a review item; the run or finding must concern the review's deployment."""
    from fmgov.evaluations.models import EvidenceLink

    _ensure_deployment_owner(actor, review_item.review.deployment, doing="cite evidence on its review")
    if (run is None) == (finding is None):
        message = "Link exactly one run or one finding."
        raise InvalidInput(message, field_errors={"run": [message], "finding": [message]})
    deployment = review_item.review.deployment
    if run is not None:
        concerns_review = run.deployment_id == deployment.pk
    else:
        concerns_review = (
            finding.subject_type_id == subject_type_for(deployment).pk and finding.subject_id == deployment.pk
        )
    if not concerns_review:
        field = "run" if run else "finding"
        raise InvalidInput(
            "Wrong deployment.", field_errors={field: ["It concerns another deployment than the review."]}
        )
    lookup = {"review_item": review_item, "run": run, "finding": finding}
    if EvidenceLink.objects.filter(**lookup).exists():
        raise InvalidInput(
            "Already linked.", field_errors={"run" if run else "finding": ["Already linked to this item."]}
        )
    # Evidence is part of what reviewers sign: a submitted review reopens (its sign-offs void), an approved refuses.
    review_evidence_changing(review=review_item.review, actor=actor, because="cite evidence on an item")
    link = EvidenceLink.objects.create(created_by=actor, note=note, **lookup)
    audit_record(
        action="evidence_link.create",
        actor=actor,
        obj=link,
        changes=created(
            {"review_item": review_item.pk, "run": getattr(run, "pk", None), "finding": getattr(finding, "pk", None)}
        ),
    )
    return link


@transaction.atomic
def evidence_link_delete(*, actor: Actor, link) -> None:
    _ensure_engineer(actor)
    _ensure_owner_or_admin(actor, link.created_by_id, "evidence link")
    review_evidence_changing(review=link.review_item.review, actor=actor, because="remove evidence from an item")
    audit_record(action="evidence_link.delete", actor=actor, obj=link, changes=deleted(snapshot(link)))
    link.delete()


def ensure_may_change_suite(actor: Actor, suite: EvaluationSuite) -> None:
    """A suite some review policy requires is the board's gate: only admins change it (its thresholds above all)."""
    if has_role(actor, Role.ADMIN) or not suite.policy_requirements.exists():
        return
    policies = ", ".join(sorted(suite.policy_requirements.values_list("policy__name", flat=True)))
    raise NotAllowed(f"Suite {suite} is required by the review policy {policies}; only admins may change it.")


@transaction.atomic
def suite_requirement_create(*, actor: Actor, policy, suite: EvaluationSuite, max_age_days: int = 30):
    """Admins only: the policy's reviews need a passing run of ``suite`` younger than ``max_age_days``."""
    from fmgov.evaluations.models import SuiteRequirement

    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins change review policies.")
    if SuiteRequirement.objects.filter(policy=policy, suite=suite).exists():
        raise InvalidInput("Already required.", field_errors={"suite": ["The policy already requires this suite."]})
    requirement = SuiteRequirement.objects.create(policy=policy, suite=suite, max_age_days=max_age_days)
    audit_record(
        action="suite_requirement.create", actor=actor, obj=requirement, changes=created(snapshot(requirement))
    )
    return requirement


@transaction.atomic
def suite_requirement_delete(*, actor: Actor, requirement) -> None:
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins change review policies.")
    audit_record(
        action="suite_requirement.delete", actor=actor, obj=requirement, changes=deleted(snapshot(requirement))
    )
    requirement.delete()
