"""A review and its risk items as the author writes them; editing a submitted review reopens it as a draft."""

from django.db import transaction
from django.utils import timezone

from audits.services import audit_record, created, deleted, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews.choices import (
    EDITABLE_STATES,
    ITEM_ASSESSMENT_FIELDS,
    OPEN_STATES,
    SCORE_MAX,
    SCORE_MIN,
    ReviewState,
)
from fmgov.reviews.models import ReviewItem, ReviewPolicy, RiskCategory, RiskReview
from fmgov.reviews.services.common import (
    _lock,
    _refuse_unknown,
    _require_author,
    _require_deployment_owner,
    ensure_transition,
)
from fmgov.reviews.services.policy_rules import ensure_policy_allowed, policy_for_environment

MAX_EVIDENCE_ENTRIES = 50
MAX_EVIDENCE_LENGTH = 2000
# The one list of each entity's writable fields, in display order: API serializers and page forms derive theirs.
REVIEW_FIELDS = ("policy", "title", "summary")
REVIEW_ITEM_FIELDS = ("category", *ITEM_ASSESSMENT_FIELDS)


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


def _reopen_if_submitted(review: RiskReview, actor: Actor, *, because: str) -> None:
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
            changes={"void": [False, True], "void_reason": ["", sign_off.void_reason]},
            context={"review": review.pk, "reviewer": sign_off.reviewer.username},
        )
    review.state = ReviewState.DRAFT
    review.save(update_fields=["state", "updated_at"])
    audit_record(
        action="review.reopen",
        actor=actor,
        obj=review,
        changes={"state": [ReviewState.SUBMITTED, ReviewState.DRAFT]},
        context={"because": because},
    )


@transaction.atomic
def review_evidence_changing(*, review: RiskReview, actor: Actor, because: str) -> RiskReview:
    """Called by whoever adds or removes evidence on a review, in its transaction, before the change.

    Evidence is part of what the board signs: on a submitted review the change voids the sign-offs (the review
    returns to draft), on an approved or closed one it is refused (409), as for any edit.
    """
    review = _lock(review)
    _reopen_if_submitted(review, actor, because=because)
    return review


@transaction.atomic
def review_create(
    *, deployment, actor: Actor, policy: ReviewPolicy | None = None, title: str = "", summary: str = ""
) -> RiskReview:
    from fmgov.registry.models import Deployment

    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    _require_deployment_owner(deployment, actor, doing="start a risk review of this deployment")
    if deployment.status == DeploymentStatus.RETIRED:
        raise Conflict(f"Deployment {deployment} is retired; it cannot be reviewed.")
    open_review = deployment.risk_reviews.filter(state__in=OPEN_STATES).first()
    if open_review is not None:
        raise Conflict(
            f"Deployment {deployment} already has an open review (#{open_review.pk}, "
            f"{open_review.get_state_display().lower()}); finish that one first."
        )
    if policy is None:
        policy = policy_for_environment(deployment.environment)
        if policy is None:
            raise InvalidInput("No default policy.", field_errors={"policy": ["Choose a review policy."]})
    ensure_policy_allowed(deployment, policy)
    review = RiskReview.objects.create(
        deployment=deployment, policy=policy, title=title, summary=summary, created_by=actor
    )
    audit_record(action="review.create", actor=actor, obj=review, changes=created(snapshot(review)))
    return review


@transaction.atomic
def review_update(*, review: RiskReview, actor: Actor, **fields) -> RiskReview:
    """Title, summary and policy. On a submitted review this voids its sign-offs and returns it to draft."""
    _refuse_unknown(fields, REVIEW_FIELDS)
    review = _lock(review)
    _require_author(review, actor)
    before = snapshot(review, fields=list(fields))
    if not diff(before, snapshot(_with(review, fields), fields=list(fields))):
        return review
    if "policy" in fields:
        ensure_policy_allowed(review.deployment, fields["policy"])
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
    actor: Actor,
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
    audit_record(action="review_item.create", actor=actor, obj=item, changes=created(snapshot(item)))
    return item


@transaction.atomic
def review_item_update(*, item: ReviewItem, actor: Actor, **fields) -> ReviewItem:
    _refuse_unknown(fields, REVIEW_ITEM_FIELDS)
    review = _lock(item.review)
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related("category").get(pk=item.pk)
    _require_author(review, actor)
    before = snapshot(item)
    current = {f: getattr(item, f) for f in REVIEW_ITEM_FIELDS if f != "category"}
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
def review_item_delete(*, item: ReviewItem, actor: Actor) -> None:
    review = _lock(item.review)
    _require_author(review, actor)
    _reopen_if_submitted(review, actor, because="remove an item")
    before = snapshot(item)
    audit_record(action="review_item.delete", actor=actor, obj=item, changes=deleted(before))
    item.delete()
