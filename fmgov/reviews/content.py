"""The canonical content of a risk review and its SHA-256.

What a sign-off approves: the deployment (where it runs and which endpoint
it calls, not its display name), its target version and that version's
artifact digest, the policy, and the items (plus the review's own title and
summary, which reviewers read too). Canonical JSON is the audit
trail's: sorted keys, no insignificant whitespace, UTF-8.
"""

import hashlib
from typing import Any

from audits.canonical import canonical_json
from fmgov.reviews.models import ReviewItem, RiskReview

__all__ = ["review_content", "review_content_hash", "target_of"]


def target_of(deployment) -> dict[str, Any]:
    """The deployed version: a foundation model or an adaptation row, with its digest."""
    if deployment.foundation_model_id:
        kind, target = "foundation_model", deployment.foundation_model
    else:
        kind, target = "adaptation", deployment.adaptation
    return {
        "kind": kind,
        "id": target.pk,
        "name": target.name,
        "version": target.version,
        "artifact_digest": target.artifact_digest,
    }


def _item(item: ReviewItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "category": item.category.slug,
        "description": item.description,
        "likelihood": item.likelihood,
        "severity": item.severity,
        "mitigation": item.mitigation,
        "residual_likelihood": item.residual_likelihood,
        "residual_severity": item.residual_severity,
        "evidence": list(item.evidence or []),
    }


def review_content(review: RiskReview) -> dict[str, Any]:
    """Read fresh from the database, so a stale instance never hashes old content."""
    review = (
        RiskReview.objects.select_related("deployment__foundation_model", "deployment__adaptation", "policy")
        .prefetch_related("policy__required_categories")
        .get(pk=review.pk)
    )
    deployment = review.deployment
    policy = review.policy
    items = ReviewItem.objects.filter(review_id=review.pk).select_related("category").order_by("id")
    return {
        "review": {"id": review.pk, "title": review.title, "summary": review.summary},
        "deployment": {
            "id": deployment.pk,
            "environment": deployment.environment,
            "region": deployment.region,
            "endpoint": {
                "adapter": deployment.endpoint_adapter,
                "base_url": deployment.endpoint_base_url,
                "model": deployment.endpoint_model,
            },
            "target": target_of(deployment),
        },
        "policy": {
            "id": policy.pk,
            "name": policy.name,
            "quorum": policy.quorum,
            "required_groups": sorted(policy.required_groups or []),
            "validity_days": policy.validity_days,
            "required_categories": sorted(c.slug for c in policy.required_categories.all()),
        },
        "items": [_item(item) for item in items],
    }


def review_content_hash(review: RiskReview) -> str:
    return hashlib.sha256(canonical_json(review_content(review)).encode("utf-8")).hexdigest()
