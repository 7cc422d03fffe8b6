"""Approved risk reviews built through the reviews services, as every real caller does."""

from fmgov.reviews import services as review_services
from fmgov.reviews.models import ReviewPolicy, RiskCategory


def policy(quorum: int = 1) -> ReviewPolicy:
    policy.counter = getattr(policy, "counter", 0) + 1
    return ReviewPolicy.objects.create(name=f"Evaluation test policy {policy.counter}", quorum=quorum, validity_days=90)


def reliability() -> RiskCategory:
    """The seeded category; transactional tests flush seed data, so it is recreated when missing."""
    category, _ = RiskCategory.objects.get_or_create(slug="reliability", defaults={"name": "Reliability"})
    return category


def draft_review(*, deployment, author, review_policy=None):
    review = review_services.review_create(
        deployment=deployment, actor=author, policy=review_policy or policy(), title=f"Review of {deployment.name}"
    )
    item = review_services.review_item_create(
        review=review,
        actor=author,
        category=reliability(),
        description="Hallucinated answers.",
        likelihood=3,
        severity=3,
        mitigation="Retrieval with citations.",
        residual_likelihood=2,
        residual_severity=2,
        evidence=[],
    )
    return review, item


def approved_review(*, deployment, author, reviewer, review_policy=None):
    review, _ = draft_review(deployment=deployment, author=author, review_policy=review_policy)
    review = review_services.review_submit(review=review, actor=author)
    review_services.sign_off_create(review=review, actor=reviewer, decision="approve")
    review.refresh_from_db()
    assert review.state == "approved"
    return review
