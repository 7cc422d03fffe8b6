"""What the review page shows and cites of evaluations: answers to the reviews app's evidence hooks.

Reviews sit below evaluations, so the review page asks through hooks declared in
``fmgov.reviews.hooks`` and answered in ``EvaluationsConfig.ready()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fmgov.evaluations import selectors
from fmgov.evaluations.models import EvaluationRun

if TYPE_CHECKING:
    from fmgov.reviews.models import ReviewItem, RiskReview

__all__ = ["CITABLE_RUNS", "review_evidence", "run_for_evidence"]

CITABLE_RUNS = 30


def review_evidence(review: RiskReview, items: list[ReviewItem]) -> list[EvaluationRun]:
    """Runs and findings cited on the items (set as ``item.evaluation_links``); the runs one may still cite."""
    by_item: dict[int, list] = {}
    for link in selectors.evidence_for_review(review):
        by_item.setdefault(link.review_item_id, []).append(link)
    for item in items:
        item.evaluation_links = by_item.get(item.pk, [])
    return list(
        selectors.run_list()
        .filter(deployment_id=review.deployment_id, finished_at__isnull=False)
        .order_by("-finished_at", "-id")[:CITABLE_RUNS]
    )


def run_for_evidence(run_id: str) -> EvaluationRun | None:
    """The run a form names, or None (the citing service checks it concerns the review's deployment)."""
    return selectors.run_list().filter(pk=run_id).first() if run_id.isdigit() else None
