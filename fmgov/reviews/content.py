"""The canonical content of a risk review and its SHA-256, under versioned hash schemes.

What a sign-off approves is what the reviewer saw. Each review (and each of its
sign-offs) stores the scheme its hash was made under, and every check
recomputes with that scheme, so approvals given before a scheme change keep
their binding. A scheme, once released, never changes: a new one gets a new
number.

Scheme 1: the review's title and summary, its items (with their free-text
evidence), the deployment's environment, region and endpoint (adapter, base URL,
model), its target version with its digest, and the policy (quorum, groups,
validity, required categories).

Scheme 2 adds what scheme 1 missed: the endpoint credential, the target's whole
lineage (each ancestor's kind, version, digest, licence and parents), the
evaluation evidence cited on the items and the suites the policy requires with
their thresholds. Apps above ``reviews`` contribute their parts through the
``review_content_parts`` hook, answered at start-up (a missing answer fails
``manage.py check``, never hashes less).

Scheme 3 adds the evidence files (issue 19): every attachment of the review and of each item, superseded
revisions included, with its name, SHA-256, size, detected type, revision and dates, contributed through the
``review_attachments`` hook. A file added or replaced after a sign-off changes the hash.

Canonical JSON is the audit trail's: sorted keys, no insignificant whitespace, UTF-8.
"""

import hashlib
from collections.abc import Callable
from typing import Any

from audits.canonical import canonical_json
from fmgov.registry.governed import governed_values
from fmgov.reviews import hooks
from fmgov.reviews.choices import HASH_SCHEME_CURRENT
from fmgov.reviews.models import ReviewItem, RiskReview

__all__ = ["HASH_SCHEMES", "review_content", "review_content_hash", "target_of"]


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


def _fresh(review: RiskReview) -> RiskReview:
    """Read fresh from the database, so a stale instance never hashes old content."""
    return (
        RiskReview.objects.select_related(
            "deployment__foundation_model", "deployment__adaptation", "deployment__endpoint_credential", "policy"
        )
        .prefetch_related("policy__required_categories")
        .get(pk=review.pk)
    )


def _items(review: RiskReview) -> list[ReviewItem]:
    return list(ReviewItem.objects.filter(review_id=review.pk).select_related("category").order_by("id"))


def _content_v1(review: RiskReview) -> dict[str, Any]:
    """Scheme 1, as released: kept byte for byte so that older approvals still verify."""
    deployment = review.deployment
    policy = review.policy
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
        "items": [_item(item) for item in _items(review)],
    }


def _lineage(deployment) -> list[dict[str, Any]]:
    """The target and every ancestor: kind, version, digest, licence and (for adaptations) parents."""
    from fmgov.registry.models import Adaptation, AdaptationParent, FoundationModel
    from fmgov.reviews.selectors import deployment_lineage_ids

    model_ids, adaptation_ids = deployment_lineage_ids(deployment)
    parents: dict[int, list[list[Any]]] = {pk: [] for pk in adaptation_ids}
    for edge in AdaptationParent.objects.filter(child_id__in=adaptation_ids):
        parent = (
            ["foundation_model", edge.parent_model_id]
            if edge.parent_model_id
            else ["adaptation", edge.parent_adaptation_id]
        )
        parents[edge.child_id].append(parent)
    nodes = [
        {
            "kind": "foundation_model",
            "id": m.pk,
            "name": m.name,
            "version": m.version,
            "artifact_digest": m.artifact_digest,
            "license": m.license,
        }
        for m in FoundationModel.objects.filter(pk__in=model_ids).order_by("pk")
    ]
    nodes += [
        {
            "kind": "adaptation",
            "adaptation_kind": a.kind,
            "id": a.pk,
            "name": a.name,
            "version": a.version,
            "artifact_digest": a.artifact_digest,
            "license": a.license,
            "parents": sorted(parents[a.pk]),
        }
        for a in Adaptation.objects.filter(pk__in=adaptation_ids).order_by("pk")
    ]
    return nodes


def _content_v2(review: RiskReview) -> dict[str, Any]:
    content = _content_v1(review)
    deployment = review.deployment
    credential = deployment.endpoint_credential
    content["deployment"]["endpoint"]["credential"] = credential.name if credential is not None else None
    content["deployment"]["governed"] = governed_values(deployment)
    content["lineage"] = _lineage(deployment)
    parts = hooks.review_content_parts(review)
    evidence = parts.get("evidence", {})
    for item in content["items"]:
        item["evaluation_evidence"] = evidence.get(item["id"], [])
    content["policy"]["required_suites"] = parts.get("required_suites", [])
    return content


def _content_v3(review: RiskReview) -> dict[str, Any]:
    content = _content_v2(review)
    attachments = hooks.review_attachments(review)
    content["review"]["attachments"] = attachments.get("review", [])
    by_item = attachments.get("items", {})
    for item in content["items"]:
        item["attachments"] = by_item.get(item["id"], [])
    return content


#: Every released scheme, by number. Add, never edit.
HASH_SCHEMES: dict[int, Callable[[RiskReview], dict[str, Any]]] = {1: _content_v1, 2: _content_v2, 3: _content_v3}


def review_content(review: RiskReview, *, scheme: int = HASH_SCHEME_CURRENT) -> dict[str, Any]:
    return HASH_SCHEMES[scheme](_fresh(review))


def review_content_hash(review: RiskReview, *, scheme: int = HASH_SCHEME_CURRENT) -> str:
    """The SHA-256 under ``scheme``: the current one for a new submission, the review's own for every check."""
    return hashlib.sha256(canonical_json(review_content(review, scheme=scheme)).encode("utf-8")).hexdigest()
