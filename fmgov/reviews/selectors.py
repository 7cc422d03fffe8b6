"""Reads for risk reviews, shaped so that views never query per row.

``deployment_approval_blocker`` is the registry's go-live check: a deployment
may go live only under an approved, unexpired, unrevoked review whose content
still hashes to what the board signed and whose target digest is unchanged.
"""

from django.db.models import CharField, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from fmgov.core.roles import Role, has_role
from fmgov.reviews.choices import ITEM_ASSESSMENT_FIELDS, REVIEW_DECISION_FIELDS, SCORE_MAX, Decision, ReviewState
from fmgov.reviews.models import ReviewItem, ReviewPolicy, RiskCategory, RiskReview, SignOff

__all__ = [
    "risk_category_list",
    "review_policy_list",
    "review_list",
    "review_api_list",
    "review_page_list",
    "review_api_rows",
    "review_api_relations",
    "review_awaiting",
    "review_item_list",
    "sign_off_list",
    "current_approved_review",
    "deployment_approval_blocker",
    "review_approval_status",
    "review_heat_map",
    "deployment_lineage_ids",
    "review_stakeholder_ids",
    "eligible_reviewers",
    "reviewer_shortfall",
]


def risk_category_list() -> QuerySet[RiskCategory]:
    return RiskCategory.objects.all()


def review_policy_list() -> QuerySet[ReviewPolicy]:
    return ReviewPolicy.objects.prefetch_related("required_categories")


def review_list() -> QuerySet[RiskReview]:
    return RiskReview.objects.select_related(
        "deployment__foundation_model",
        "deployment__adaptation",
        "deployment__owner",
        "policy",
        "created_by",
        "submitted_by",
    ).prefetch_related(
        "policy__required_categories",
        Prefetch("items", queryset=ReviewItem.objects.select_related("category")),
        Prefetch("sign_offs", queryset=SignOff.objects.select_related("reviewer").prefetch_related("reviewer__groups")),
    )


def review_api_list() -> QuerySet[RiskReview]:
    """Reviews as the API lists them: what its serializer reads, in a constant number of small queries.

    The direct relations are joined, the deployment's own (owner, model, adaptation) prefetched: eight
    tables in one join cost PostgreSQL 30-50 ms to plan against well under 1 ms to run (issue 18).
    """
    return RiskReview.objects.select_related("deployment", "policy", "created_by", "submitted_by").prefetch_related(
        "deployment__owner",
        "deployment__foundation_model",
        "deployment__adaptation",
        Prefetch("items", queryset=ReviewItem.objects.select_related("category")),
        Prefetch("sign_offs", queryset=SignOff.objects.select_related("reviewer").prefetch_related("reviewer__groups")),
    )


def review_page_list() -> QuerySet[RiskReview]:
    """Reviews as the list page shows them: the deployment's name and the policy's quorum joined, the items and
    the current submission's approvals counted in the database (``item_count``, ``approval_count``).

    ``review_list()`` joins seven tables and prefetches items, sign-offs and groups for a page that shows two
    numbers of them: at 2,000 reviews PostgreSQL spent 30 ms planning its join alone (issue 18).
    """
    approvals = (
        SignOff.objects.filter(
            review=OuterRef("pk"), submission=OuterRef("submission"), void=False, decision=Decision.APPROVE
        )
        .order_by()
        .values("review")
        .annotate(n=Count("id"))
        .values("n")
    )
    items = ReviewItem.objects.filter(review=OuterRef("pk")).order_by().values("review").annotate(n=Count("id"))
    return (
        RiskReview.objects.select_related("deployment", "policy")
        .only(
            "id",
            "title",
            "state",
            "submission",
            "submitted_at",
            "expires_at",
            "deployment__id",
            "deployment__name",
            "policy__id",
            "policy__quorum",
        )
        .annotate(
            item_count=Coalesce(Subquery(items.values("n")), 0),
            approval_count=Coalesce(Subquery(approvals), 0),
        )
    )


REVIEW_ROW_COLUMNS = (
    "id",
    "deployment_id",
    "policy_id",
    "title",
    "summary",
    "state",
    "submission",
    "content_hash",
    "target_digest",
    "created_by_id",
    "submitted_by_id",
    *REVIEW_DECISION_FIELDS,
    "created_at",
    "updated_at",
    "deployment__name",
    "deployment__owner_id",
    "deployment__foundation_model_id",
    "deployment__adaptation_id",
    "policy__name",
    "policy__quorum",
    "policy__required_groups",
)


def review_api_rows(queryset: QuerySet[RiskReview]) -> QuerySet[dict]:
    """The API list's reviews (already filtered and ordered) as plain rows: the review's columns with its
    deployment's and policy's, two joins. Read-only: building 50 model instances and their nested serializers
    cost the list most of its time (issue 18)."""
    return queryset.select_related(None).prefetch_related(None).values(*REVIEW_ROW_COLUMNS)


def review_api_relations(rows: list[dict]) -> dict:
    """What the list shows of the rows' items, sign-offs, people and targets, in four queries whatever the
    page holds: items with their category, sign-offs, usernames with their groups (the approvers' decide the
    missing groups), and the deployed foundation models and adaptations together."""
    from django.contrib.auth import get_user_model

    ids = [row["id"] for row in rows]
    items: dict[int, list[dict]] = {pk: [] for pk in ids}
    for item in (
        ReviewItem.objects.filter(review_id__in=ids)
        .order_by("id")
        .values(
            "id",
            "review_id",
            "category__slug",
            "category__name",
            *ITEM_ASSESSMENT_FIELDS,
            "created_at",
            "updated_at",
        )
    ):
        items[item["review_id"]].append(item)
    sign_offs: dict[int, list[dict]] = {pk: [] for pk in ids}
    for sign_off in SignOff.objects.filter(review_id__in=ids).order_by("created_at", "id").values():
        sign_offs[sign_off["review_id"]].append(sign_off)
    user_ids = {row[key] for row in rows for key in ("created_by_id", "submitted_by_id", "deployment__owner_id")}
    user_ids |= {s["reviewer_id"] for group in sign_offs.values() for s in group}
    user_ids.discard(None)
    usernames: dict[int, str] = {}
    groups: dict[int, set[str]] = {}
    for pk, username, group in (
        get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username", "groups__name")
    ):  # one row per (user, group): the approvers' groups decide the missing ones
        usernames[pk] = username
        groups.setdefault(pk, set()).update([group] if group else [])
    return {
        "items": items,
        "sign_offs": sign_offs,
        "usernames": usernames,
        "groups": groups,
        "targets": _review_targets(rows),
    }


def _review_targets(rows: list[dict]) -> dict[tuple[str, int], dict]:
    """The deployed version of each row's deployment, by (kind, id): models and adaptations in one query."""
    from fmgov.registry.models import Adaptation, FoundationModel

    columns = ("id", "name", "version", "artifact_digest")
    model_ids = {row["deployment__foundation_model_id"] for row in rows} - {None}
    adaptation_ids = {
        row["deployment__adaptation_id"] for row in rows if row["deployment__foundation_model_id"] is None
    } - {None}
    parts = [
        table.objects.filter(pk__in=ids)
        .order_by()
        .annotate(target_kind=Value(kind, output_field=CharField()))
        .values(*columns, "target_kind")
        for table, kind, ids in (
            (FoundationModel, "foundation_model", model_ids),
            (Adaptation, "adaptation", adaptation_ids),
        )
        if ids
    ]
    if not parts:
        return {}
    found = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {(target["target_kind"], target["id"]): target for target in found}


def review_awaiting(user, queryset: QuerySet[RiskReview] | None = None) -> QuerySet[RiskReview]:
    """Submitted reviews this reviewer may sign and has not yet signed in the current submission."""
    queryset = review_list() if queryset is None else queryset
    if not has_role(user, Role.REVIEWER):
        return queryset.none()
    signed = SignOff.objects.filter(review=OuterRef("pk"), reviewer=user, submission=OuterRef("submission"))
    return (
        queryset.filter(state=ReviewState.SUBMITTED)
        .exclude(
            Q(submitted_by=user)
            | Q(deployment__owner=user)
            | Q(created_by=user)
            | Q(deployment__foundation_model__owner=user)
            | Q(deployment__adaptation__owner=user)
        )
        .filter(~Exists(signed))
    )


def deployment_lineage_ids(deployment) -> tuple[set[int], set[int]]:
    """The ids of the deployment's target and every ancestor of it: (foundation models, adaptations)."""
    from fmgov.registry.selectors import adaptation_ancestors

    model_ids: set[int] = set()
    adaptation_ids: set[int] = set()
    if deployment.foundation_model_id:
        model_ids.add(deployment.foundation_model_id)
    else:
        adaptation_ids.add(deployment.adaptation_id)
        for ancestor in adaptation_ancestors(adaptation_id=deployment.adaptation_id):
            (model_ids if ancestor["kind"] == "foundation_model" else adaptation_ids).add(ancestor["id"])
    return model_ids, adaptation_ids


def review_stakeholder_ids(review: RiskReview) -> set[int]:
    """Who has a stake in the review and so may not sign it off: its author and submitter, the deployment's
    owner, and the owners of its target and of every ancestor of the target."""
    from fmgov.registry.models import Adaptation, FoundationModel

    deployment = review.deployment
    ids = {review.created_by_id, review.submitted_by_id, deployment.owner_id}
    model_ids, adaptation_ids = deployment_lineage_ids(deployment)
    ids |= set(FoundationModel.objects.filter(pk__in=model_ids).values_list("owner_id", flat=True))
    ids |= set(Adaptation.objects.filter(pk__in=adaptation_ids).values_list("owner_id", flat=True))
    ids.discard(None)
    return ids


def eligible_reviewers(review: RiskReview, *, submitter=None) -> QuerySet:
    """Active reviewers without a stake in the review (as if ``submitter`` submitted it): who may sign it off."""
    from django.contrib.auth import get_user_model

    excluded = review_stakeholder_ids(review) | ({submitter.pk} if submitter is not None else set())
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.REVIEWER)
        .exclude(pk__in=excluded)
        .distinct()
        .prefetch_related("groups")
    )


def reviewer_shortfall(review: RiskReview, *, submitter=None) -> str | None:
    """Why the policy's quorum cannot be reached by eligible reviewers, or None when it can."""
    policy = review.policy
    eligible = list(eligible_reviewers(review, submitter=submitter))
    groups = {g.name for user in eligible for g in user.groups.all()}
    problems = []
    if len(eligible) < policy.quorum:
        problems.append(f"it needs {policy.quorum} approval(s) and only {len(eligible)} eligible reviewer(s) remain")
    missing = sorted(set(policy.required_groups or []) - groups)
    if missing:
        problems.append(f"no eligible reviewer belongs to the required group(s) {', '.join(missing)}")
    if not problems:
        return None
    return (
        f"Under the policy {policy}, {' and '.join(problems)}. Eligible reviewers hold the reviewer role and did "
        "not write, submit or own the deployment, its target or any ancestor; ask an admin to add reviewers or "
        "choose the policy with them."
    )


def review_item_list(review_id: int) -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(review_id=review_id).select_related("category")


def sign_off_list(review_id: int) -> QuerySet[SignOff]:
    return SignOff.objects.filter(review_id=review_id).select_related("reviewer")


def current_approved_review(deployment) -> RiskReview | None:
    """The deployment's most recently approved review, while it is still approved and unexpired.

    Only the newest approval counts: a renewal supersedes older approvals, so
    revoking the newest leaves nothing current even if an older one has not
    yet reached its expiry date.
    """
    latest = (
        RiskReview.objects.filter(deployment_id=deployment.pk, approved_at__isnull=False)
        .order_by("-approved_at", "-pk")
        .first()
    )
    if (
        latest is None
        or latest.state != ReviewState.APPROVED
        or latest.revoked_at is not None
        or latest.expires_at is None
        or latest.expires_at <= timezone.now()
    ):
        return None
    return latest


def deployment_approval_blocker(deployment) -> str | None:
    """None when the deployment may go live; otherwise why not, in a sentence."""
    from fmgov.registry.models import Deployment
    from fmgov.reviews.content import review_content_hash

    # Read afresh: a caller's instance may carry a stale cached target.
    deployment = Deployment.objects.select_related("foundation_model", "adaptation").get(pk=deployment.pk)
    review = current_approved_review(deployment)
    if review is None:
        latest = (
            RiskReview.objects.filter(deployment_id=deployment.pk, approved_at__isnull=False)
            .order_by("-approved_at", "-pk")
            .first()
        )
        if latest is not None and latest.state == ReviewState.REVOKED:
            return f"The approval of risk review #{latest.pk} was revoked: {latest.revoked_reason}"
        if latest is not None and (latest.state == ReviewState.EXPIRED or latest.state == ReviewState.APPROVED):
            return f"The approval of risk review #{latest.pk} expired on {latest.expires_at:%Y-%m-%d}; review again."
        return f"Deployment {deployment} has no approved risk review."
    if deployment.target_digest != review.target_digest:
        return (
            f"The artifact digest of the deployed version changed since risk review #{review.pk} was approved; "
            "the new artifact needs a new review."
        )
    if review_content_hash(review, scheme=review.hash_scheme) != review.content_hash:
        return f"The content of risk review #{review.pk} changed after it was approved; it must be reviewed again."
    return None


def _approvals(review: RiskReview) -> list[SignOff]:
    return list(
        SignOff.objects.filter(
            review_id=review.pk, submission=review.submission, void=False, decision=Decision.APPROVE
        ).prefetch_related("reviewer__groups")
    )


def review_approval_status(review: RiskReview) -> dict:
    """Approvals counted against the policy: quorum and every required group represented."""
    approvals = _approvals(review)
    approver_groups = {g.name for s in approvals for g in s.reviewer.groups.all()}
    missing = sorted(set(review.policy.required_groups or []) - approver_groups)
    return {
        "approvals": len(approvals),
        "quorum": review.policy.quorum,
        "missing_groups": missing,
        "met": len(approvals) >= review.policy.quorum and not missing,
    }


def review_heat_map(items) -> dict:
    """5x5 counts of items by likelihood (rows, 1..5) and severity (columns, 1..5), inherent and residual."""
    inherent = [[0] * SCORE_MAX for _ in range(SCORE_MAX)]
    residual = [[0] * SCORE_MAX for _ in range(SCORE_MAX)]
    for item in items:
        inherent[item.likelihood - 1][item.severity - 1] += 1
        residual[item.residual_likelihood - 1][item.residual_severity - 1] += 1
    return {"rows": "likelihood", "columns": "severity", "inherent": inherent, "residual": residual}
