"""Questions the reviews app asks apps above it; they answer in their ``AppConfig.ready()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from fmgov.core.hooks import Hook

if TYPE_CHECKING:
    from fmgov.reviews.models import RiskReview

__all__ = ["review_submission_blockers"]

#: Why a review may not be submitted yet (required evaluation suites lacking a passing run). Answered by evaluations.
review_submission_blockers: Hook[[RiskReview], Iterable[str]] = Hook(
    "reviews.review_submission_blockers", answered_by="fmgov.evaluations"
)
