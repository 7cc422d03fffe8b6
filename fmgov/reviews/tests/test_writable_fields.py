"""Each review entity's writable fields are declared once, in services; the API and the forms offer exactly those."""

import pytest

from fmgov.core.exceptions import InvalidInput
from fmgov.reviews import services
from fmgov.reviews.api.serializers import (
    ReviewItemSerializer,
    ReviewPolicySerializer,
    RiskCategorySerializer,
    RiskReviewUpdateSerializer,
)
from fmgov.reviews.forms import ReviewCreateForm, ReviewItemForm


def _writable(serializer) -> set[str]:
    return {field.source or name for name, field in serializer.fields.items() if not field.read_only}


@pytest.mark.parametrize(
    ("serializer", "declared"),
    [
        (RiskCategorySerializer(), services.RISK_CATEGORY_FIELDS),
        (ReviewPolicySerializer(), services.REVIEW_POLICY_FIELDS),
        (ReviewItemSerializer(), services.REVIEW_ITEM_FIELDS),
        (RiskReviewUpdateSerializer(), services.REVIEW_FIELDS),
    ],
    ids=["category", "policy", "item", "review"],
)
def test_api_accepts_exactly_the_service_fields(serializer, declared):
    assert _writable(serializer) == set(declared)


def test_forms_offer_the_service_fields():
    assert list(ReviewCreateForm._meta.fields) == list(services.REVIEW_FIELDS)
    assert list(ReviewItemForm._meta.fields) == list(services.REVIEW_ITEM_FIELDS)


@pytest.mark.django_db
def test_updates_refuse_fields_that_are_not_declared(engineer):
    from fmgov.reviews.tests.factories import ready_review

    review = ready_review(author=engineer)
    with pytest.raises(InvalidInput) as refused:
        services.review_update(review=review, actor=engineer, state="approved")
    assert refused.value.field_errors == {"state": ["Not a writable field."]}
    review.refresh_from_db()
    assert review.state == "draft"
