"""Writes for risk reviews: one atomic, audited service per action.

Every state change locks the review row (``select_for_update``), checks the
transition table in ``choices.py`` and records its audit event in the same
transaction. Notifications are enqueued on commit, so a rolled-back action
sends nothing.

The writers live in one module per concern; import them from here
(``from fmgov.reviews import services``), which is also where tests patch
``enqueue_on_commit``:

    common      ensure_transition, the row lock, role checks
    taxonomy    risk categories and review policies (admins)
    authoring   reviews and their items, as the author writes them
    signoffs    submission, sign-offs and quorum, requests for changes
    revocation  revocation, expiry and the expiry notice
    policy_rules  environments mapped to policies (admins), and the "only stricter" rule for authors
    drift       the approvals check behind verify_approvals and its beat task
"""

from fmgov.core.tasks_util import enqueue_on_commit as enqueue_on_commit
from fmgov.reviews.services.authoring import MAX_EVIDENCE_ENTRIES as MAX_EVIDENCE_ENTRIES
from fmgov.reviews.services.authoring import MAX_EVIDENCE_LENGTH as MAX_EVIDENCE_LENGTH
from fmgov.reviews.services.authoring import (
    REVIEW_FIELDS,
    REVIEW_ITEM_FIELDS,
    review_create,
    review_evidence_changing,
    review_item_create,
    review_item_delete,
    review_item_update,
    review_update,
)
from fmgov.reviews.services.common import ensure_transition
from fmgov.reviews.services.drift import approvals_verify
from fmgov.reviews.services.policy_rules import (
    environment_policy_create,
    environment_policy_delete,
    environment_policy_update,
    policy_for_environment,
)
from fmgov.reviews.services.revocation import review_expire, review_expiry_notice, review_revoke, reviews_expire_due
from fmgov.reviews.services.signoffs import review_request_changes, review_submit, sign_off_create
from fmgov.reviews.services.taxonomy import (
    REVIEW_POLICY_FIELDS,
    RISK_CATEGORY_FIELDS,
    review_policy_create,
    review_policy_update,
    risk_category_create,
    risk_category_update,
)

__all__ = [
    "REVIEW_FIELDS",
    "REVIEW_ITEM_FIELDS",
    "REVIEW_POLICY_FIELDS",
    "RISK_CATEGORY_FIELDS",
    "ensure_transition",
    "risk_category_create",
    "risk_category_update",
    "review_policy_create",
    "review_policy_update",
    "review_create",
    "review_update",
    "review_evidence_changing",
    "review_item_create",
    "review_item_update",
    "review_item_delete",
    "review_submit",
    "sign_off_create",
    "review_request_changes",
    "review_revoke",
    "review_expire",
    "review_expiry_notice",
    "reviews_expire_due",
    "approvals_verify",
    "environment_policy_create",
    "environment_policy_update",
    "environment_policy_delete",
    "policy_for_environment",
]
