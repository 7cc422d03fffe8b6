"""The review list page counts items and the current submission's approvals in the database (issue 18)."""

import pytest
from django.urls import reverse

from fmgov.reviews import services
from fmgov.reviews.models import RiskReview
from fmgov.reviews.tests.factories import ReviewPolicyFactory, add_item, approve, ready_review, submitted_review

pytestmark = pytest.mark.django_db


def test_counts_shown_are_the_current_submissions(engineer, reviewer, other_reviewer, client):
    edited = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=2))
    approve(edited, reviewer)  # voided by the edit below
    add_item(edited, engineer)
    edited = services.review_submit(review=RiskReview.objects.get(pk=edited.pk), actor=engineer)
    approve(edited, other_reviewer)
    services.sign_off_create(review=edited, actor=reviewer, decision="reject", comment="No.")
    draft = ready_review(author=engineer, policy=ReviewPolicyFactory(quorum=3), slugs=[])

    client.force_login(reviewer)
    response = client.get(reverse("reviews:review-list"))
    rows = {r.pk: r for r in response.context["page"]}
    assert (rows[edited.pk].item_count, rows[edited.pk].approval_count) == (2, 1)
    assert (rows[draft.pk].item_count, rows[draft.pk].approval_count) == (0, 0)
    html = response.content.decode()
    assert "<td>2</td>\n      <td>1 of 2</td>" in html and "<td>0</td>\n      <td>0 of 3</td>" in html
