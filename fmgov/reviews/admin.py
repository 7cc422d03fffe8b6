"""Django admin: read-only for the workflow records (writes go through services and the API)."""

from django.contrib import admin

from fmgov.core.admin_readonly import ReadOnlyAdmin
from fmgov.reviews.models import EnvironmentPolicy, ReviewItem, ReviewPolicy, RiskCategory, RiskReview, SignOff


@admin.register(RiskCategory)
class RiskCategoryAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "position", "retired"]
    list_filter = ["retired"]
    search_fields = ["name", "slug"]


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "quorum", "validity_days", "is_default"]


@admin.register(EnvironmentPolicy)
class EnvironmentPolicyAdmin(ReadOnlyAdmin):
    list_display = ["environment", "policy", "updated_at"]


class ReviewItemInline(admin.TabularInline):
    model = ReviewItem
    fields = ["category", "description", "likelihood", "severity", "residual_likelihood", "residual_severity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SignOffInline(admin.TabularInline):
    model = SignOff
    fields = ["reviewer", "submission", "decision", "conditions", "content_hash", "hash_scheme", "void", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RiskReview)
class RiskReviewAdmin(ReadOnlyAdmin):
    list_display = ["id", "deployment", "policy", "state", "submission", "approved_at", "expires_at"]
    list_filter = ["state", "policy"]
    search_fields = ["title", "deployment__name"]
    list_select_related = ["deployment", "policy"]
    inlines = [ReviewItemInline, SignOffInline]


@admin.register(SignOff)
class SignOffAdmin(ReadOnlyAdmin):
    list_display = ["id", "review", "reviewer", "submission", "decision", "void", "created_at"]
    list_filter = ["decision", "void"]
    list_select_related = ["review__deployment", "reviewer"]
    search_fields = ["reviewer__username"]
