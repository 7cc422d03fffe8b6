"""Evaluations' part of a risk review's content hash and of a policy's strictness (answers to reviews hooks).

Only what does not change by itself is hashed: which run or finding is cited,
with its note (a run finishing or a finding being resolved is not an edit of
the review), and each required suite with its evaluator, thresholds and the
age its passing run may have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fmgov.evaluations.models import EvidenceLink, SuiteRequirement

if TYPE_CHECKING:
    from fmgov.reviews.models import ReviewPolicy, RiskReview

__all__ = ["review_content_parts", "policy_suite_requirements"]


def _requirements(policy_id: int):
    return SuiteRequirement.objects.filter(policy_id=policy_id).select_related("suite").order_by("suite_id")


def review_content_parts(review: RiskReview) -> dict[str, Any]:
    evidence: dict[int, list[dict[str, Any]]] = {}
    links = EvidenceLink.objects.filter(review_item__review_id=review.pk).order_by("review_item_id", "id")
    for link in links:
        evidence.setdefault(link.review_item_id, []).append(
            {"id": link.pk, "run": link.run_id, "finding": link.finding_id, "note": link.note}
        )
    suites = [
        {
            "suite": r.suite_id,
            "name": r.suite.name,
            "evaluator": r.suite.evaluator,
            "thresholds": r.suite.thresholds,
            "max_age_days": r.max_age_days,
        }
        for r in _requirements(review.policy_id)
    ]
    return {"evidence": evidence, "required_suites": suites}


def policy_suite_requirements(policy: ReviewPolicy) -> dict[int, dict[str, Any]]:
    return {
        r.suite_id: {"max_age_days": r.max_age_days, "thresholds": r.suite.thresholds} for r in _requirements(policy.pk)
    }
