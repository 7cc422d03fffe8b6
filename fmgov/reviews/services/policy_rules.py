"""The policy a review falls under, by rule: admins map environments to policies; authors may only go stricter.

A review of a deployment whose environment an admin mapped starts under the
mapped policy; its author may choose another only if it is at least as strict
(quorum no lower, required groups, categories and suites a superset, each
required suite's passing run no older, validity no longer). The rule is checked
when the review is created, when its policy changes and again on submission,
since the mapping may have changed meanwhile.
"""

from django.db import transaction

from audits.services import audit_record, created, deleted, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.registry.choices import Environment
from fmgov.reviews import hooks
from fmgov.reviews.models import EnvironmentPolicy, ReviewPolicy
from fmgov.reviews.services.common import _require_admin

__all__ = [
    "environment_policy_create",
    "environment_policy_update",
    "environment_policy_delete",
    "policy_for_environment",
    "policy_looser_than",
    "ensure_policy_allowed",
]


def _check_environment(environment: str) -> None:
    if environment not in Environment.values:
        raise InvalidInput(
            "Unknown environment.", field_errors={"environment": [f"Choose {', '.join(Environment.values)}."]}
        )


@transaction.atomic
def environment_policy_create(*, actor: Actor, environment: str, policy: ReviewPolicy) -> EnvironmentPolicy:
    _require_admin(actor)
    _check_environment(environment)
    if EnvironmentPolicy.objects.filter(environment=environment).exists():
        raise InvalidInput(
            "Already mapped.", field_errors={"environment": ["This environment has a policy; change that rule."]}
        )
    rule = EnvironmentPolicy.objects.create(environment=environment, policy=policy)
    audit_record(action="environment_policy.create", actor=actor, obj=rule, changes=created(snapshot(rule)))
    return rule


@transaction.atomic
def environment_policy_update(*, rule: EnvironmentPolicy, actor: Actor, policy: ReviewPolicy) -> EnvironmentPolicy:
    """Reviews already approved keep their policy; new reviews and submissions follow the new rule."""
    _require_admin(actor)
    rule = EnvironmentPolicy.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(rule)
    rule.policy = policy
    rule.save()
    changes = diff(before, snapshot(rule))
    if changes:
        audit_record(action="environment_policy.update", actor=actor, obj=rule, changes=changes)
    return rule


@transaction.atomic
def environment_policy_delete(*, rule: EnvironmentPolicy, actor: Actor) -> None:
    _require_admin(actor)
    audit_record(action="environment_policy.delete", actor=actor, obj=rule, changes=deleted(snapshot(rule)))
    rule.delete()


def policy_for_environment(environment: str) -> ReviewPolicy | None:
    """The mapped policy, or the default one when admins mapped none."""
    rule = EnvironmentPolicy.objects.select_related("policy").filter(environment=environment).first()
    if rule is not None:
        return rule.policy
    return ReviewPolicy.objects.filter(is_default=True).first()


def policy_looser_than(chosen: ReviewPolicy, floor: ReviewPolicy) -> list[str]:
    """In what ``chosen`` is less strict than ``floor`` (empty: at least as strict)."""
    if chosen.pk == floor.pk:
        return []
    reasons = []
    if chosen.quorum < floor.quorum:
        reasons.append(f"its quorum {chosen.quorum} is below {floor.quorum}")
    if missing := sorted(set(floor.required_groups or []) - set(chosen.required_groups or [])):
        reasons.append(f"it does not require the group(s) {', '.join(missing)}")
    floor_categories = {c.slug for c in floor.required_categories.all()}
    if missing := sorted(floor_categories - {c.slug for c in chosen.required_categories.all()}):
        reasons.append(f"it does not require the categories {', '.join(missing)}")
    if chosen.validity_days > floor.validity_days:
        reasons.append(f"its approvals last {chosen.validity_days} days, not at most {floor.validity_days}")
    chosen_suites = hooks.policy_suite_requirements(chosen)
    for suite_id, needed in sorted(hooks.policy_suite_requirements(floor).items()):
        mine = chosen_suites.get(suite_id)
        if mine is None:
            reasons.append(f"it does not require evaluation suite #{suite_id}")
        elif mine["max_age_days"] > needed["max_age_days"] or mine["thresholds"] != needed["thresholds"]:
            reasons.append(f"it accepts an older or looser run of evaluation suite #{suite_id}")
    return reasons


def ensure_policy_allowed(deployment, policy: ReviewPolicy) -> None:
    """400 when the environment's rule sets a stricter policy than the one chosen."""
    rule = EnvironmentPolicy.objects.select_related("policy").filter(environment=deployment.environment).first()
    if rule is None:
        return
    reasons = policy_looser_than(policy, rule.policy)
    if reasons:
        message = (
            f"The {deployment.get_environment_display().lower()} environment requires the policy {rule.policy} "
            f"or a stricter one; {policy} is weaker: {'; '.join(reasons)}."
        )
        raise InvalidInput(message, field_errors={"policy": [message]})
