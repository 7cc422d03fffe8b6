"""Review states, sign-off decisions and the review state transition table."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ReviewState",
    "Decision",
    "REVIEW_TRANSITIONS",
    "EDITABLE_STATES",
    "OPEN_STATES",
    "SCORE_MIN",
    "SCORE_MAX",
    "EXPIRY_NOTICE_DAYS",
    "HASH_SCHEME_CURRENT",
]


class ReviewState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    ABSTAIN = "abstain", _("Abstain")


# Allowed state changes; every one is a service in services/. submitted ->
# draft is the edit of a submitted review, which voids its sign-offs.
REVIEW_TRANSITIONS: dict[str, set[str]] = {
    ReviewState.DRAFT: {ReviewState.SUBMITTED},
    ReviewState.SUBMITTED: {
        ReviewState.APPROVED,
        ReviewState.REJECTED,
        ReviewState.CHANGES_REQUESTED,
        ReviewState.DRAFT,
    },
    ReviewState.CHANGES_REQUESTED: {ReviewState.SUBMITTED},
    ReviewState.APPROVED: {ReviewState.EXPIRED, ReviewState.REVOKED},
    ReviewState.REJECTED: set(),
    ReviewState.EXPIRED: set(),
    ReviewState.REVOKED: set(),
}

# States in which the author may change the content (items, title, policy);
# a change in SUBMITTED first returns the review to DRAFT.
EDITABLE_STATES = {ReviewState.DRAFT, ReviewState.CHANGES_REQUESTED, ReviewState.SUBMITTED}

# A deployment has at most one review in these states at a time.
OPEN_STATES = {ReviewState.DRAFT, ReviewState.SUBMITTED, ReviewState.CHANGES_REQUESTED}

SCORE_MIN = 1
SCORE_MAX = 5

# The owner is warned this many days before an approval expires.
EXPIRY_NOTICE_DAYS = 14

# The content-hash scheme new submissions are hashed under (``fmgov.reviews.content.HASH_SCHEMES``); a review and
# its sign-offs keep the scheme they were made under. Scheme 1 is the one before issue 15; scheme 3 adds the
# evidence files' digests (issue 19).
HASH_SCHEME_CURRENT = 3


# Field lists shared by the services, the API serializers and the list's plain-row selector (one spelling each).
#: A risk item's assessment, after its category.
ITEM_ASSESSMENT_FIELDS = (
    "description",
    "likelihood",
    "severity",
    "mitigation",
    "residual_likelihood",
    "residual_severity",
    "evidence",
)
#: A review's submission and decision record.
REVIEW_DECISION_FIELDS = (
    "submitted_at",
    "decided_at",
    "approved_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
    "changes_requested_comment",
)
