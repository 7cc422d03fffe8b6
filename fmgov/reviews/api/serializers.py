"""API serializers: they validate input and shape output; services change state."""

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from fmgov.registry.models import Deployment
from fmgov.reviews.choices import SCORE_MAX, SCORE_MIN, Decision
from fmgov.reviews.content import target_of
from fmgov.reviews.models import EnvironmentPolicy, ReviewItem, ReviewPolicy, RiskCategory, RiskReview, SignOff
from fmgov.reviews.selectors import review_heat_map
from fmgov.reviews.services import (
    MAX_EVIDENCE_ENTRIES,
    MAX_EVIDENCE_LENGTH,
    REVIEW_ITEM_FIELDS,
    REVIEW_POLICY_FIELDS,
    RISK_CATEGORY_FIELDS,
)


class RiskCategorySerializer(serializers.ModelSerializer):
    nist_ai_rmf = serializers.ListField(child=serializers.CharField(max_length=50), max_length=30, required=False)
    eu_ai_act = serializers.ListField(child=serializers.CharField(max_length=50), max_length=30, required=False)

    class Meta:
        model = RiskCategory
        fields = ["id", *RISK_CATEGORY_FIELDS]
        read_only_fields = ["id"]


class ReviewPolicySerializer(serializers.ModelSerializer):
    required_groups = serializers.ListField(child=serializers.CharField(max_length=150), max_length=20, required=False)
    required_categories = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=RiskCategory.objects.all(), required=False
    )
    quorum = serializers.IntegerField(min_value=1, max_value=50, required=False)
    validity_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)

    class Meta:
        model = ReviewPolicy
        fields = ["id", *REVIEW_POLICY_FIELDS]
        read_only_fields = ["id"]


class EnvironmentPolicySerializer(serializers.ModelSerializer):
    """An environment's policy rule; on update only the policy changes (map another environment anew)."""

    class Meta:
        model = EnvironmentPolicy
        fields = ["id", "environment", "policy"]
        read_only_fields = ["id"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["environment"].read_only = True
        return fields


class ReviewItemSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", queryset=RiskCategory.objects.all())
    category_name = serializers.CharField(source="category.name", read_only=True)
    likelihood = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    severity = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    residual_likelihood = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    residual_severity = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    evidence = serializers.ListField(
        child=serializers.CharField(max_length=MAX_EVIDENCE_LENGTH),
        max_length=MAX_EVIDENCE_ENTRIES,
        required=False,
        help_text="Free text and URLs.",
    )
    inherent_score = serializers.IntegerField(read_only=True)
    residual_score = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            *REVIEW_ITEM_FIELDS,
            "category_name",
            "inherent_score",
            "residual_score",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_category(self, category: RiskCategory) -> RiskCategory:
        unchanged = self.instance is not None and self.instance.category_id == category.pk
        if category.retired and not unchanged:
            raise serializers.ValidationError(f"{category} is retired; choose another category.")
        return category

    def validate(self, attrs):
        def value(name):
            return attrs.get(name, getattr(self.instance, name, None))

        errors = {}
        for inherent in ("likelihood", "severity"):
            residual = f"residual_{inherent}"
            if value(residual) is not None and value(inherent) is not None and value(residual) > value(inherent):
                errors[residual] = [
                    f"The residual {inherent} cannot be above the inherent {inherent} ({value(inherent)})."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class SignOffSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = SignOff
        fields = [
            "id",
            "review",
            "reviewer",
            "submission",
            "decision",
            "comment",
            "conditions",
            "conflict_of_interest",
            "content_hash",
            "void",
            "voided_at",
            "void_reason",
            "created_at",
        ]
        read_only_fields = fields


class SignOffInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    conditions = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    conflict_of_interest = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="A declared conflict of interest; the sign-off then counts as an abstention.",
    )


class ReviewTargetSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    artifact_digest = serializers.CharField()


class ReviewApprovalSerializer(serializers.Serializer):
    approvals = serializers.IntegerField()
    quorum = serializers.IntegerField()
    missing_groups = serializers.ListField(child=serializers.CharField())
    conditions = serializers.ListField(child=serializers.CharField())


class ReviewHeatMapSerializer(serializers.Serializer):
    rows = serializers.CharField(help_text="likelihood, 1..5 top to bottom")
    columns = serializers.CharField(help_text="severity, 1..5 left to right")
    inherent = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    residual = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class RiskReviewSerializer(serializers.ModelSerializer):
    deployment_name = serializers.CharField(source="deployment.name", read_only=True)
    deployment_owner = serializers.CharField(source="deployment.owner.username", read_only=True)
    target = serializers.SerializerMethodField()
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True, default=None, allow_null=True)
    items = ReviewItemSerializer(many=True, read_only=True)
    sign_offs = SignOffSerializer(many=True, read_only=True)
    approval = serializers.SerializerMethodField()
    heat_map = serializers.SerializerMethodField()
    max_inherent_score = serializers.SerializerMethodField()
    max_residual_score = serializers.SerializerMethodField()

    class Meta:
        model = RiskReview
        fields = [
            "id",
            "deployment",
            "deployment_name",
            "deployment_owner",
            "target",
            "policy",
            "policy_name",
            "title",
            "summary",
            "state",
            "submission",
            "content_hash",
            "target_digest",
            "created_by",
            "submitted_by",
            "submitted_at",
            "decided_at",
            "approved_at",
            "expires_at",
            "revoked_at",
            "revoked_reason",
            "changes_requested_comment",
            "approval",
            "max_inherent_score",
            "max_residual_score",
            "heat_map",
            "items",
            "sign_offs",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ReviewTargetSerializer)
    def get_target(self, review: RiskReview) -> dict:
        return ReviewTargetSerializer(target_of(review.deployment)).data

    @extend_schema_field(ReviewApprovalSerializer)
    def get_approval(self, review: RiskReview) -> dict:
        """From the prefetched sign-offs: no query per review."""
        approvals = [
            s
            for s in review.sign_offs.all()
            if s.submission == review.submission and not s.void and s.decision == Decision.APPROVE
        ]
        groups = {g.name for s in approvals for g in s.reviewer.groups.all()}
        data = {
            "approvals": len(approvals),
            "quorum": review.policy.quorum,
            "missing_groups": sorted(set(review.policy.required_groups or []) - groups),
            "conditions": [f"{s.reviewer.username}: {s.conditions}" for s in approvals if s.conditions],
        }
        return ReviewApprovalSerializer(data).data

    @extend_schema_field(ReviewHeatMapSerializer)
    def get_heat_map(self, review: RiskReview) -> dict:
        return review_heat_map(review.items.all())

    def get_max_inherent_score(self, review: RiskReview) -> int | None:
        return max((i.inherent_score for i in review.items.all()), default=None)

    def get_max_residual_score(self, review: RiskReview) -> int | None:
        return max((i.residual_score for i in review.items.all()), default=None)


_DATETIME = serializers.DateTimeField()  # its representation, so that the rows below read exactly as the serializer's


def _when(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _datetime_formatter() -> Callable[[dt.datetime | None], str | None]:
    """``_when`` for a whole list: DRF reads the current time zone (a context-local lookup) for every value,
    200-odd times a page; this reads it once and writes ISO 8601 as DRF does (``Z`` for UTC). A naive value
    or another configured format goes through the DRF field itself."""
    output_format = api_settings.DATETIME_FORMAT
    if not settings.USE_TZ or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return _when
    zone = timezone.get_current_timezone()

    def when(value: dt.datetime | None) -> str | None:
        if value is None or value.tzinfo is None:
            return _when(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return when


def _text(value) -> str | None:
    return None if value is None else str(value)


def _item_data(item: dict, when: Callable) -> dict:
    return {
        "id": item["id"],
        "category": item["category__slug"],
        "description": item["description"],
        "likelihood": item["likelihood"],
        "severity": item["severity"],
        "mitigation": item["mitigation"],
        "residual_likelihood": item["residual_likelihood"],
        "residual_severity": item["residual_severity"],
        "evidence": [_text(entry) for entry in item["evidence"] or []],
        "category_name": item["category__name"],
        "inherent_score": item["likelihood"] * item["severity"],
        "residual_score": item["residual_likelihood"] * item["residual_severity"],
        "created_at": when(item["created_at"]),
        "updated_at": when(item["updated_at"]),
    }


def _sign_off_data(sign_off: dict, usernames: dict[int, str], when: Callable) -> dict:
    return {
        "id": sign_off["id"],
        "review": sign_off["review_id"],
        "reviewer": usernames[sign_off["reviewer_id"]],
        "submission": sign_off["submission"],
        "decision": sign_off["decision"],
        "comment": sign_off["comment"],
        "conditions": sign_off["conditions"],
        "conflict_of_interest": sign_off["conflict_of_interest"],
        "content_hash": sign_off["content_hash"],
        "void": sign_off["void"],
        "voided_at": when(sign_off["voided_at"]),
        "void_reason": sign_off["void_reason"],
        "created_at": when(sign_off["created_at"]),
    }


def review_list_data(rows: list[dict], relations: dict) -> list[dict]:
    """``RiskReviewSerializer(many=True).data`` for the list, built from plain rows (``review_api_rows`` and
    ``review_api_relations``): the same JSON, key for key, without a serializer and model instance per row,
    item and sign-off (most of the list's time at scale, issue 18). ``test_api_list_rows`` pins the two equal."""
    usernames, groups = relations["usernames"], relations["groups"]
    when = _datetime_formatter()
    data = []
    for row in rows:
        items, sign_offs = relations["items"][row["id"]], relations["sign_offs"][row["id"]]
        if row["deployment__foundation_model_id"] is not None:
            kind, target = (
                "foundation_model",
                relations["targets"]["foundation_model", row["deployment__foundation_model_id"]],
            )
        else:
            kind, target = "adaptation", relations["targets"]["adaptation", row["deployment__adaptation_id"]]
        approvals = [
            s
            for s in sign_offs
            if s["submission"] == row["submission"] and not s["void"] and s["decision"] == Decision.APPROVE
        ]
        approving_groups = {name for s in approvals for name in groups.get(s["reviewer_id"], ())}
        heat_map = review_heat_map(SimpleNamespace(**item) for item in items)
        data.append(
            {
                "id": row["id"],
                "deployment": row["deployment_id"],
                "deployment_name": row["deployment__name"],
                "deployment_owner": usernames[row["deployment__owner_id"]],
                "target": {
                    "kind": kind,
                    "id": target["id"],
                    "name": _text(target["name"]),
                    "version": _text(target["version"]),
                    "artifact_digest": _text(target["artifact_digest"]),
                },
                "policy": row["policy_id"],
                "policy_name": row["policy__name"],
                "title": row["title"],
                "summary": row["summary"],
                "state": row["state"],
                "submission": row["submission"],
                "content_hash": row["content_hash"],
                "target_digest": row["target_digest"],
                "created_by": usernames[row["created_by_id"]],
                "submitted_by": usernames.get(row["submitted_by_id"]),
                "submitted_at": when(row["submitted_at"]),
                "decided_at": when(row["decided_at"]),
                "approved_at": when(row["approved_at"]),
                "expires_at": when(row["expires_at"]),
                "revoked_at": when(row["revoked_at"]),
                "revoked_reason": row["revoked_reason"],
                "changes_requested_comment": row["changes_requested_comment"],
                "approval": {
                    "approvals": len(approvals),
                    "quorum": row["policy__quorum"],
                    "missing_groups": sorted(set(row["policy__required_groups"] or []) - approving_groups),
                    "conditions": [
                        f"{usernames[s['reviewer_id']]}: {s['conditions']}" for s in approvals if s["conditions"]
                    ],
                },
                "max_inherent_score": max((i["likelihood"] * i["severity"] for i in items), default=None),
                "max_residual_score": max(
                    (i["residual_likelihood"] * i["residual_severity"] for i in items), default=None
                ),
                "heat_map": heat_map,
                "items": [_item_data(item, when) for item in items],
                "sign_offs": [_sign_off_data(s, usernames, when) for s in sign_offs],
                "created_at": when(row["created_at"]),
                "updated_at": when(row["updated_at"]),
            }
        )
    return data


class RiskReviewCreateSerializer(serializers.Serializer):
    deployment = serializers.PrimaryKeyRelatedField(queryset=Deployment.objects.all())
    policy = serializers.PrimaryKeyRelatedField(queryset=ReviewPolicy.objects.all(), required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")


class RiskReviewUpdateSerializer(serializers.Serializer):
    policy = serializers.PrimaryKeyRelatedField(queryset=ReviewPolicy.objects.all(), required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)


class RequestChangesSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000)


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
