"""Query-string filters for the review API, e.g. ``?state=submitted&awaiting=me``."""

import django_filters

from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import RiskCategory, RiskReview
from fmgov.reviews.selectors import review_awaiting


class RiskCategoryFilter(django_filters.FilterSet):
    retired = django_filters.BooleanFilter()

    class Meta:
        model = RiskCategory
        fields = ["retired"]


class RiskReviewFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=ReviewState.choices)
    deployment = django_filters.NumberFilter(field_name="deployment_id")
    policy = django_filters.NumberFilter(field_name="policy_id")
    submitted_by = django_filters.CharFilter(field_name="submitted_by__username")
    awaiting = django_filters.ChoiceFilter(
        choices=[("me", "me")], method="filter_awaiting", help_text="`me`: submitted reviews waiting for your sign-off."
    )

    class Meta:
        model = RiskReview
        fields = ["state", "deployment", "policy", "submitted_by", "awaiting"]

    def filter_awaiting(self, queryset, name, value):
        return review_awaiting(self.request.user, queryset) if value == "me" else queryset
