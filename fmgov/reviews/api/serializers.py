"""API serializers: they validate input and shape output; services change state."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fmgov.registry.models import Deployment
from fmgov.reviews.choices import REVIEW_DECISION_FIELDS, SCORE_MAX, SCORE_MIN, Decision
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
            *REVIEW_DECISION_FIELDS,
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
