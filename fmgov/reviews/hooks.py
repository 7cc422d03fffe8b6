"""Questions the reviews app asks apps above it; they answer in their ``AppConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from fmgov.core.hooks import Hook

if TYPE_CHECKING:
    from fmgov.reviews.models import ReviewItem, RiskReview

__all__ = [
    "review_submission_blockers",
    "review_evidence",
    "evidence_run",
    "evidence_link_create",
    "review_content_parts",
    "review_attachments",
    "policy_suite_requirements",
]

#: Why a review may not be submitted yet (required evaluation suites lacking a passing run). Answered by evaluations.
review_submission_blockers: Hook[[RiskReview], Iterable[str]] = Hook(
    "reviews.review_submission_blockers", answered_by="fmgov.evaluations"
)

#: The evaluation runs and findings cited on the items (set as ``item.evaluation_links``); returns the runs one
#: may still cite. Answered by evaluations.
review_evidence: Hook[[RiskReview, list[ReviewItem]], list[Any]] = Hook(
    "reviews.review_evidence", answered_by="fmgov.evaluations"
)

#: The evaluation run a form names (its id as sent), or None. Answered by evaluations.
evidence_run: Hook[[str], Any | None] = Hook("reviews.evidence_run", answered_by="fmgov.evaluations")

#: Cite a run on a review item (the audited evaluations service). Answered by evaluations.
evidence_link_create: Hook[..., Any] = Hook("reviews.evidence_link_create", answered_by="fmgov.evaluations")

#: What apps above contribute to a review's content hash (scheme 2): ``{"evidence": {item id: [link, ...]},
#: "required_suites": [{suite, evaluator, thresholds, max_age_days}, ...]}``, canonical-JSON-ready and ordered.
#: Answered by evaluations; unanswered, ``manage.py check`` fails rather than a hash silently covering less.
review_content_parts: Hook[[RiskReview], dict[str, Any]] = Hook(
    "reviews.review_content_parts", answered_by="fmgov.evaluations"
)

#: The evidence files on a review and its items, with their digests (scheme 3 of the content hash):
#: ``{"review": [row, ...], "items": {item id: [row, ...]}}``, canonical-JSON-ready and ordered. Answered by
#: evidence; unanswered, ``manage.py check`` fails rather than a hash silently covering less.
review_attachments: Hook[[RiskReview], dict[str, Any]] = Hook(
    "reviews.review_attachments", answered_by="fmgov.evidence"
)

#: The suites a policy requires, ``{suite id: {"max_age_days": n, "thresholds": {...}}}``, to compare two policies'
#: strictness. Answered by evaluations.
policy_suite_requirements: Hook[[Any], dict[int, dict[str, Any]]] = Hook(
    "reviews.policy_suite_requirements", answered_by="fmgov.evaluations"
)
