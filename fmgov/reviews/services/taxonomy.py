"""Admin writes to the risk taxonomy (categories) and to review policies (quorum, groups, validity)."""

from django.contrib.auth.models import Group
from django.db import transaction

from audits.services import audit_record, created, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput
from fmgov.reviews.models import ReviewPolicy, RiskCategory
from fmgov.reviews.services.common import _refuse_unknown, _require_admin

# The one list of each entity's writable fields, in display order: API serializers derive theirs.
RISK_CATEGORY_FIELDS = ("slug", "name", "description", "nist_ai_rmf", "eu_ai_act", "position", "retired")
REVIEW_POLICY_FIELDS = (
    "name",
    "description",
    "quorum",
    "required_groups",
    "validity_days",
    "required_categories",
    "is_default",
)


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
    actor: Actor,
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
    audit_record(action="risk_category.create", actor=actor, obj=category, changes=created(snapshot(category)))
    return category


@transaction.atomic
def risk_category_update(*, category: RiskCategory, actor: Actor, **fields) -> RiskCategory:
    """Also retires (``retired=True``) and restores; a retired category stays on old reviews."""
    _require_admin(actor)
    _refuse_unknown(fields, RISK_CATEGORY_FIELDS)
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
    actor: Actor,
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
        changes=created(
            {**snapshot(policy), "required_categories": sorted(c.slug for c in policy.required_categories.all())}
        ),
    )
    return policy


def _clear_default(actor: Actor) -> None:
    for old in ReviewPolicy.objects.select_for_update().filter(is_default=True):
        old.is_default = False
        old.save(update_fields=["is_default", "updated_at"])
        audit_record(action="review_policy.update", actor=actor, obj=old, changes={"is_default": [True, False]})


@transaction.atomic
def review_policy_update(*, policy: ReviewPolicy, actor: Actor, required_categories=None, **fields) -> ReviewPolicy:
    """Changing a policy changes the content of its reviews: approvals under it stop covering go-live."""
    _require_admin(actor)
    _refuse_unknown([*fields, "required_categories"], REVIEW_POLICY_FIELDS)
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
