"""Writes for risk reviews: one atomic, audited service per action.

Every state change locks the review row (``select_for_update``), checks the
transition table in ``choices.py`` and records its audit event in the same
transaction. Notifications are enqueued on commit, so a rolled-back action
sends nothing.
"""

import importlib
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, diff, snapshot
from fmgov.core.exceptions import Conflict, InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import tasks
from fmgov.reviews.choices import (
    EDITABLE_STATES,
    OPEN_STATES,
    REVIEW_TRANSITIONS,
    SCORE_MAX,
    SCORE_MIN,
    Decision,
    ReviewState,
)
from fmgov.reviews.content import review_content_hash
from fmgov.reviews.models import ReviewItem, ReviewPolicy, RiskCategory, RiskReview, SignOff
from fmgov.reviews.selectors import current_approved_review, review_approval_status

__all__ = [
    "ensure_transition",
    "risk_category_create",
    "risk_category_update",
    "review_policy_create",
    "review_policy_update",
    "review_create",
    "review_update",
    "review_item_create",
    "review_item_update",
    "review_item_delete",
    "review_submit",
    "sign_off_create",
    "review_request_changes",
    "review_revoke",
    "review_expire",
    "review_expiry_notice",
]

MAX_EVIDENCE_ENTRIES = 50
MAX_EVIDENCE_LENGTH = 2000


# --- helpers ---------------------------------------------------------------------------------------------------


def ensure_transition(review: RiskReview, target: str, *, doing: str) -> None:
    if target not in REVIEW_TRANSITIONS[review.state]:
        raise TransitionNotAllowed(
            f"Cannot {doing}: the review is {ReviewState(review.state).label.lower()}{_allowed_hint(review.state)}."
        )


def _allowed_hint(state: str) -> str:
    allowed = sorted(ReviewState(s).label.lower() for s in REVIEW_TRANSITIONS[state])
    return f" and can only become {' or '.join(allowed)}" if allowed else " and that is final"


def _lock(review: RiskReview) -> RiskReview:
    return RiskReview.objects.select_for_update(of=("self",)).select_related("deployment", "policy").get(pk=review.pk)


def _require_admin(actor, system: str = "") -> None:
    """An admin, or a named system actor (a management command) when there is no user."""
    if actor is None and system:
        return
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may change the risk taxonomy and review policies.")


def _require_author(review: RiskReview, actor) -> None:
    """The review's author, the deployment's owner (engineers) or an admin may change and submit it."""
    if has_role(actor, Role.ADMIN):
        return
    if not has_role(actor, Role.ENGINEER):
        raise NotAllowed("Only engineers and admins may write risk reviews.")
    if actor.pk not in (review.created_by_id, review.deployment.owner_id):
        raise NotAllowed("Only the review's author, the deployment's owner or an admin may change this review.")


def _require_board_member(review: RiskReview, actor, *, doing: str) -> None:
    if not has_role(actor, Role.REVIEWER):
        raise NotAllowed(f"Only reviewers may {doing}.")
    if actor.pk == review.submitted_by_id:
        raise NotAllowed(f"You submitted this review, so you cannot {doing} it yourself.")
    if actor.pk == review.deployment.owner_id:
        raise NotAllowed(f"You own this deployment, so you cannot {doing} its review yourself.")


def _validate_groups(groups) -> list[str]:
    if not isinstance(groups, list) or not all(isinstance(g, str) and g.strip() for g in groups):
        raise InvalidInput("Invalid groups.", field_errors={"required_groups": ["Give a list of group names."]})
    names = sorted({g.strip() for g in groups})
    missing = sorted(set(names) - set(Group.objects.filter(name__in=names).values_list("name", flat=True)))
    if missing:
        raise InvalidInput(
            f"No such group: {', '.join(missing)}.",
            field_errors={"required_groups": [f"No group named {name!r}." for name in missing]},
        )
    return names


def _validate_scores(values: dict) -> None:
    errors: dict[str, list[str]] = {}
    for field in ("likelihood", "severity", "residual_likelihood", "residual_severity"):
        value = values.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or not SCORE_MIN <= value <= SCORE_MAX:
            errors[field] = [f"Enter a whole number from {SCORE_MIN} to {SCORE_MAX}."]
    for inherent in ("likelihood", "severity"):
        residual = f"residual_{inherent}"
        if not errors.get(inherent) and not errors.get(residual) and values[residual] > values[inherent]:
            errors[residual] = [
                f"The residual {inherent} cannot be above the inherent {inherent} ({values[inherent]})."
            ]
    if errors:
        raise InvalidInput("Check the scores.", field_errors=errors)


def _validate_evidence(evidence) -> list[str]:
    if evidence is None:
        return []
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise InvalidInput("Invalid evidence.", field_errors={"evidence": ["Give a list of texts or URLs."]})
    cleaned = [e.strip() for e in evidence if e.strip()]
    if len(cleaned) > MAX_EVIDENCE_ENTRIES or any(len(e) > MAX_EVIDENCE_LENGTH for e in cleaned):
        raise InvalidInput(
            "Too much evidence.",
            field_errors={
                "evidence": [f"At most {MAX_EVIDENCE_ENTRIES} entries of at most {MAX_EVIDENCE_LENGTH} characters."]
            },
        )
    return cleaned


def _reopen_if_submitted(review: RiskReview, actor, *, because: str) -> None:
    """An edit of a submitted review voids its sign-offs (kept, marked void) and returns it to draft."""
    if review.state not in EDITABLE_STATES:
        raise TransitionNotAllowed(
            f"Cannot {because}: the review is {ReviewState(review.state).label.lower()}; "
            "start a new review for this deployment instead."
        )
    if review.state != ReviewState.SUBMITTED:
        return
    ensure_transition(review, ReviewState.DRAFT, doing=because)
    now = timezone.now()
    for sign_off in review.sign_offs.filter(submission=review.submission, void=False).select_related("reviewer"):
        sign_off.void, sign_off.voided_at = True, now
        sign_off.void_reason = f"The review was edited after submission ({because})."[:300]
        sign_off.save(update_fields=["void", "voided_at", "void_reason", "updated_at"])
        audit_record(
            action="signoff.void",
            actor=actor,
            obj=sign_off,
            changes={"review": review.pk, "reviewer": sign_off.reviewer.username, "reason": sign_off.void_reason},
        )
    review.state = ReviewState.DRAFT
    review.save(update_fields=["state", "updated_at"])
    audit_record(
        action="review.reopen",
        actor=actor,
        obj=review,
        changes={"state": [ReviewState.SUBMITTED, ReviewState.DRAFT], "because": because},
    )


def _withdraw_deployment_approval_if_uncovered(review: RiskReview, actor, *, reason: str, system: str = "") -> None:
    """The deployment keeps its approval only while some other approved review still covers it."""
    if current_approved_review(review.deployment) is not None:
        return
    from fmgov.registry.services import deployment_withdraw_approval

    deployment_withdraw_approval(deployment=review.deployment, actor=actor, reason=reason, system=system)


# --- taxonomy and policies (admin) ------------------------------------------------------------------------------


def _unique_category(*, slug: str | None, name: str | None, exclude: int | None = None) -> None:
    others = RiskCategory.objects.exclude(pk=exclude)
    errors = {}
    if slug is not None and others.filter(slug=slug).exists():
        errors["slug"] = ["A category with this slug exists."]
    if name is not None and others.filter(name=name).exists():
        errors["name"] = ["A category with this name exists."]
    if errors:
        raise InvalidInput("That category exists.", field_errors=errors)


@transaction.atomic
def risk_category_create(
    *,
    actor,
    slug: str,
    name: str,
    description: str = "",
    nist_ai_rmf=None,
    eu_ai_act=None,
    position: int = 100,
    retired: bool = False,
) -> RiskCategory:
    _require_admin(actor)
    _unique_category(slug=slug, name=name)
    category = RiskCategory.objects.create(
        slug=slug,
        name=name,
        description=description,
        nist_ai_rmf=nist_ai_rmf or [],
        eu_ai_act=eu_ai_act or [],
        position=position,
        retired=retired,
    )
    audit_record(action="risk_category.create", actor=actor, obj=category, changes=snapshot(category))
    return category


@transaction.atomic
def risk_category_update(*, category: RiskCategory, actor, **fields) -> RiskCategory:
    """Also retires (``retired=True``) and restores; a retired category stays on old reviews."""
    _require_admin(actor)
    category = RiskCategory.objects.select_for_update().get(pk=category.pk)
    _unique_category(slug=fields.get("slug"), name=fields.get("name"), exclude=category.pk)
    before = snapshot(category)
    for name, value in fields.items():
        setattr(category, name, value)
    category.save()
    changes = diff(before, snapshot(category))
    if changes:
        action = "risk_category.retire" if changes.get("retired") == [False, True] else "risk_category.update"
        audit_record(action=action, actor=actor, obj=category, changes=changes)
    return category


@transaction.atomic
def review_policy_create(
    *,
    actor,
    system: str = "",
    name: str,
    quorum: int = 2,
    required_groups=None,
    validity_days: int = 365,
    required_categories=(),
    description: str = "",
    is_default: bool = False,
) -> ReviewPolicy:
    _require_admin(actor, system)
    if ReviewPolicy.objects.filter(name=name).exists():
        raise InvalidInput("That name is taken.", field_errors={"name": ["A policy with this name exists."]})
    groups = _validate_groups(required_groups or [])
    if is_default:
        _clear_default(actor)
    policy = ReviewPolicy.objects.create(
        name=name,
        description=description,
        quorum=quorum,
        required_groups=groups,
        validity_days=validity_days,
        is_default=is_default,
    )
    policy.required_categories.set(required_categories)
    audit_record(
        action="review_policy.create",
        actor=actor,
        system=system,
        obj=policy,
        changes={**snapshot(policy), "required_categories": sorted(c.slug for c in policy.required_categories.all())},
    )
    return policy


def _clear_default(actor) -> None:
    for old in ReviewPolicy.objects.select_for_update().filter(is_default=True):
        old.is_default = False
        old.save(update_fields=["is_default", "updated_at"])
        audit_record(action="review_policy.update", actor=actor, obj=old, changes={"is_default": [True, False]})


@transaction.atomic
def review_policy_update(*, policy: ReviewPolicy, actor, required_categories=None, **fields) -> ReviewPolicy:
    """Changing a policy changes the content of its reviews: approvals under it stop covering go-live."""
    _require_admin(actor)
    policy = ReviewPolicy.objects.select_for_update().get(pk=policy.pk)
    if "name" in fields and ReviewPolicy.objects.filter(name=fields["name"]).exclude(pk=policy.pk).exists():
        raise InvalidInput("That name is taken.", field_errors={"name": ["A policy with this name exists."]})
    if "required_groups" in fields:
        fields["required_groups"] = _validate_groups(fields["required_groups"])
    if fields.get("is_default") and not policy.is_default:
        _clear_default(actor)
    before = {**snapshot(policy), "required_categories": sorted(c.slug for c in policy.required_categories.all())}
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    if required_categories is not None:
        policy.required_categories.set(required_categories)
    after = {**snapshot(policy), "required_categories": sorted(c.slug for c in policy.required_categories.all())}
    changes = diff(before, after)
    if changes:
        audit_record(action="review_policy.update", actor=actor, obj=policy, changes=changes)
    return policy


# --- reviews and items -----------------------------------------------------------------------------------------


@transaction.atomic
def review_create(
    *, deployment, actor, policy: ReviewPolicy | None = None, title: str = "", summary: str = ""
) -> RiskReview:
    if not has_role(actor, Role.ENGINEER, Role.ADMIN):
        raise NotAllowed("Only engineers and admins may start a risk review.")
    from fmgov.registry.models import Deployment

    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    if deployment.status == DeploymentStatus.RETIRED:
        raise Conflict(f"Deployment {deployment} is retired; it cannot be reviewed.")
    open_review = deployment.risk_reviews.filter(state__in=OPEN_STATES).first()
    if open_review is not None:
        raise Conflict(
            f"Deployment {deployment} already has an open review (#{open_review.pk}, "
            f"{open_review.get_state_display().lower()}); finish that one first."
        )
    if policy is None:
        policy = ReviewPolicy.objects.filter(is_default=True).first()
        if policy is None:
            raise InvalidInput("No default policy.", field_errors={"policy": ["Choose a review policy."]})
    review = RiskReview.objects.create(
        deployment=deployment, policy=policy, title=title, summary=summary, created_by=actor
    )
    audit_record(action="review.create", actor=actor, obj=review, changes=snapshot(review))
    return review


@transaction.atomic
def review_update(*, review: RiskReview, actor, **fields) -> RiskReview:
    """Title, summary and policy. On a submitted review this voids its sign-offs and returns it to draft."""
    review = _lock(review)
    _require_author(review, actor)
    before = snapshot(review, fields=list(fields))
    if not diff(before, snapshot(_with(review, fields), fields=list(fields))):
        return review
    _reopen_if_submitted(review, actor, because="edit the review")
    for name, value in fields.items():
        setattr(review, name, value)
    review.save()
    audit_record(action="review.update", actor=actor, obj=review, changes=diff(before, snapshot(review, list(fields))))
    return review


def _with(review: RiskReview, fields: dict) -> RiskReview:
    copy = RiskReview(**{f.attname: getattr(review, f.attname) for f in review._meta.concrete_fields})
    for name, value in fields.items():
        setattr(copy, name, value)
    return copy


def _item_values(values: dict) -> dict:
    category = values.get("category")
    if category is not None and category.retired:
        raise InvalidInput(
            "That category is retired.", field_errors={"category": [f"{category} is retired; choose another."]}
        )
    _validate_scores(values)
    values["evidence"] = _validate_evidence(values.get("evidence"))
    if not (values.get("description") or "").strip():
        raise InvalidInput("Describe the risk.", field_errors={"description": ["This field may not be blank."]})
    return values


@transaction.atomic
def review_item_create(
    *,
    review: RiskReview,
    actor,
    category: RiskCategory,
    description: str,
    likelihood: int,
    severity: int,
    residual_likelihood: int,
    residual_severity: int,
    mitigation: str = "",
    evidence: list[str] | None = None,
) -> ReviewItem:
    review = _lock(review)
    _require_author(review, actor)
    values = _item_values(
        {
            "category": category,
            "description": description,
            "likelihood": likelihood,
            "severity": severity,
            "mitigation": mitigation,
            "residual_likelihood": residual_likelihood,
            "residual_severity": residual_severity,
            "evidence": evidence,
        }
    )
    _reopen_if_submitted(review, actor, because="add an item")
    item = ReviewItem.objects.create(review=review, **values)
    audit_record(action="review_item.create", actor=actor, obj=item, changes=snapshot(item))
    return item


@transaction.atomic
def review_item_update(*, item: ReviewItem, actor, **fields) -> ReviewItem:
    review = _lock(item.review)
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("category").get(pk=item.pk)
    _require_author(review, actor)
    before = snapshot(item)
    current = {
        f: getattr(item, f)
        for f in (
            "description",
            "likelihood",
            "severity",
            "mitigation",
            "residual_likelihood",
            "residual_severity",
            "evidence",
        )
    }
    values = {**current, **fields}
    if "category" in fields and fields["category"].pk != item.category_id:
        values["category"] = fields["category"]
    else:
        values.pop("category", None)
    values = _item_values(values)
    for name, value in values.items():
        setattr(item, name, value)
    changes = diff(before, snapshot(item))
    if not changes:
        return item
    _reopen_if_submitted(review, actor, because="change an item")
    item.save()
    audit_record(action="review_item.update", actor=actor, obj=item, changes=changes)
    return item


@transaction.atomic
def review_item_delete(*, item: ReviewItem, actor) -> None:
    review = _lock(item.review)
    _require_author(review, actor)
    _reopen_if_submitted(review, actor, because="remove an item")
    before = snapshot(item)
    audit_record(action="review_item.delete", actor=actor, obj=item, changes=before)
    item.delete()


# --- the workflow ----------------------------------------------------------------------------------------------


def _submission_blockers(review: RiskReview) -> list[str]:
    """The evaluations app's required suites, once that app provides its check."""
    name = "fmgov.evaluations.selectors"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return []
    check = getattr(module, "review_submission_blockers", None)
    return list(check(review)) if check is not None else []


@transaction.atomic
def review_submit(*, review: RiskReview, actor) -> RiskReview:
    review = _lock(review)
    _require_author(review, actor)
    ensure_transition(review, ReviewState.SUBMITTED, doing="submit the review")
    present = set(review.items.values_list("category_id", flat=True))
    if not present:
        raise Conflict("Add at least one risk item before submitting the review.")
    # A retired category takes no new items, so it cannot be required any more.
    missing = [c.name for c in review.policy.required_categories.all() if not c.retired and c.pk not in present]
    if missing:
        raise Conflict(
            f"The policy {review.policy} needs an item for every required category; missing: {', '.join(missing)}."
        )
    blockers = _submission_blockers(review)
    if blockers:
        raise Conflict("The review cannot be submitted yet: " + "; ".join(blockers))
    before = snapshot(review, ["state", "submission", "content_hash", "target_digest", "submitted_by", "submitted_at"])
    review.state = ReviewState.SUBMITTED
    review.submission += 1
    review.content_hash = review_content_hash(review)
    review.target_digest = review.deployment.target_digest
    review.submitted_by = actor
    review.submitted_at = timezone.now()
    review.changes_requested_comment = ""
    review.save()
    after = snapshot(review, list(before))
    audit_record(action="review.submit", actor=actor, obj=review, changes=diff(before, after))
    enqueue_on_commit(tasks.notify_reviewers_submitted, review.pk)
    return review


@transaction.atomic
def sign_off_create(*, review: RiskReview, actor, decision: str, comment: str = "", conditions: str = "") -> SignOff:
    """Record one reviewer's vote; a reject rejects, the quorum with the required groups approves."""
    review = _lock(review)
    _require_board_member(review, actor, doing="sign off")
    if review.state != ReviewState.SUBMITTED:
        raise TransitionNotAllowed(
            f"Only a submitted review takes sign-offs; this one is {review.get_state_display().lower()}."
        )
    if decision not in Decision.values:
        raise InvalidInput("Unknown decision.", field_errors={"decision": [f"Choose {', '.join(Decision.values)}."]})
    if conditions.strip() and decision != Decision.APPROVE:
        raise InvalidInput(
            "Conditions go with an approval.",
            field_errors={"conditions": ["Only an approval carries conditions; put your reasons in the comment."]},
        )
    if review.sign_offs.filter(reviewer=actor, submission=review.submission).exists():
        raise Conflict("You have already signed off this submission of the review.")
    if review_content_hash(review) != review.content_hash:
        raise Conflict("The review's content changed since it was submitted; it must be submitted again.")
    sign_off = SignOff.objects.create(
        review=review,
        reviewer=actor,
        submission=review.submission,
        decision=decision,
        comment=comment,
        conditions=conditions.strip(),
        content_hash=review.content_hash,
    )
    audit_record(
        action=f"signoff.{decision}",
        actor=actor,
        obj=sign_off,
        changes={
            "review": review.pk,
            "submission": review.submission,
            "decision": decision,
            "content_hash": review.content_hash,
            "comment": comment,
            "conditions": sign_off.conditions,
        },
    )
    if decision == Decision.REJECT:
        _decide(review, actor, ReviewState.REJECTED)
    elif decision == Decision.APPROVE and review_approval_status(review)["met"]:
        _decide(review, actor, ReviewState.APPROVED)
    return sign_off


def _decide(review: RiskReview, actor, state: str) -> None:
    ensure_transition(review, state, doing=f"mark the review {ReviewState(state).label.lower()}")
    now = timezone.now()
    fields = ["state", "decided_at", "updated_at"]
    review.state, review.decided_at = state, now
    if state == ReviewState.APPROVED:
        review.approved_at = now
        review.expires_at = now + timedelta(days=review.policy.validity_days)
        review.expiry_notice_sent_at = None
        fields += ["approved_at", "expires_at", "expiry_notice_sent_at"]
    review.save(update_fields=fields)
    changes = {"state": [ReviewState.SUBMITTED, state], "submission": review.submission}
    if state == ReviewState.APPROVED:
        changes["expires_at"] = review.expires_at
    audit_record(
        action=f"review.{'approve' if state == ReviewState.APPROVED else 'reject'}",
        actor=actor,
        obj=review,
        changes=changes,
    )
    if state == ReviewState.APPROVED and review.deployment.status not in (
        DeploymentStatus.APPROVED,
        DeploymentStatus.LIVE,
    ):
        from fmgov.registry.services import deployment_approve

        deployment_approve(deployment=review.deployment, actor=actor, review=review)
    enqueue_on_commit(tasks.notify_submitter_decision, review.pk)


@transaction.atomic
def review_request_changes(*, review: RiskReview, actor, comment: str) -> RiskReview:
    review = _lock(review)
    _require_board_member(review, actor, doing="request changes to")
    ensure_transition(review, ReviewState.CHANGES_REQUESTED, doing="request changes")
    if not (comment or "").strip():
        raise InvalidInput("Say what must change.", field_errors={"comment": ["Say what must change."]})
    review.state = ReviewState.CHANGES_REQUESTED
    review.decided_at = timezone.now()
    review.changes_requested_comment = comment.strip()
    review.save(update_fields=["state", "decided_at", "changes_requested_comment", "updated_at"])
    audit_record(
        action="review.request_changes",
        actor=actor,
        obj=review,
        changes={"state": [ReviewState.SUBMITTED, review.state], "submission": review.submission, "comment": comment},
    )
    enqueue_on_commit(tasks.notify_submitter_decision, review.pk)
    return review


@transaction.atomic
def review_revoke(*, review: RiskReview, actor=None, reason: str, system: str = "", finding=None) -> RiskReview:
    """By an admin, or by the system (an evaluation's threshold breach names its finding)."""
    if actor is not None and not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may revoke an approved review.")
    if actor is None and not system:
        raise NotAllowed("A revocation needs an admin or a named system actor.")
    if not (reason or "").strip():
        raise InvalidInput("Give a reason.", field_errors={"reason": ["Say why the approval is revoked."]})
    review = _lock(review)
    ensure_transition(review, ReviewState.REVOKED, doing="revoke the review")
    review.state = ReviewState.REVOKED
    review.revoked_at = timezone.now()
    review.revoked_reason = reason.strip()
    review.save(update_fields=["state", "revoked_at", "revoked_reason", "updated_at"])
    changes = {"state": [ReviewState.APPROVED, ReviewState.REVOKED], "reason": review.revoked_reason}
    if finding is not None:
        changes["finding"] = getattr(finding, "pk", finding)
    audit_record(action="review.revoke", actor=actor, system=system, obj=review, changes=changes)
    _withdraw_deployment_approval_if_uncovered(
        review, actor, reason=f"Risk review #{review.pk} revoked: {reason}", system=system
    )
    enqueue_on_commit(tasks.notify_submitter_decision, review.pk)
    return review


@transaction.atomic
def review_expire(
    *, review: RiskReview, as_of: datetime | None = None, system: str = "fmgov.reviews.tasks.expire_reviews"
) -> RiskReview:
    """Approved reviews past ``expires_at`` become expired; called daily by the beat task."""
    review = _lock(review)
    as_of = as_of or timezone.now()
    if review.state == ReviewState.APPROVED and review.expires_at and review.expires_at > as_of:
        raise Conflict(f"The review is valid until {review.expires_at:%Y-%m-%d}; it has not expired.")
    ensure_transition(review, ReviewState.EXPIRED, doing="expire the review")
    review.state = ReviewState.EXPIRED
    review.save(update_fields=["state", "updated_at"])
    audit_record(
        action="review.expire",
        system=system,
        obj=review,
        changes={"state": [ReviewState.APPROVED, ReviewState.EXPIRED], "expires_at": review.expires_at},
    )
    _withdraw_deployment_approval_if_uncovered(review, None, reason=f"Risk review #{review.pk} expired.", system=system)
    return review


@transaction.atomic
def review_expiry_notice(*, review: RiskReview, system: str = "fmgov.reviews.tasks.expire_reviews") -> bool:
    """Mark and enqueue the owner's warning once per approval; False if already sent or no longer due."""
    review = _lock(review)
    if review.state != ReviewState.APPROVED or review.expiry_notice_sent_at is not None:
        return False
    review.expiry_notice_sent_at = timezone.now()
    review.save(update_fields=["expiry_notice_sent_at", "updated_at"])
    audit_record(
        action="review.expiry_notice",
        system=system,
        obj=review,
        changes={"expires_at": review.expires_at, "owner": review.deployment.owner_id},
    )
    enqueue_on_commit(tasks.notify_owner_expiring, review.pk)
    return True
