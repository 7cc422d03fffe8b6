"""The API review list's page from plain rows (issue 18): ``RiskReviewSerializer(many=True).data``, key for key.

Building a model instance, and a serializer's worth of field objects, per review, item and sign-off was most
of the list's time at scale; the rows come from ``review_api_rows`` and ``review_api_relations``
(``fmgov.reviews.selectors``). ``tests/test_api_list_rows.py`` pins the two answers equal byte for byte.
"""

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from fmgov.reviews.choices import Decision
from fmgov.reviews.selectors import review_heat_map

__all__ = ["review_list_data"]

_DATETIME = serializers.DateTimeField()  # its representation, so that the rows below read exactly as the serializer's


def _when(value) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def _datetime_formatter() -> Callable[[dt.datetime | None], str | None]:
    """``_when`` for a whole list: DRF reads the current time zone (a context-local lookup) for every value,
    200-odd times a page; this reads it once and writes ISO 8601 as DRF does (``Z`` for UTC). A naive value
    or another configured format goes through the DRF field itself."""
    output_format = api_settings.DATETIME_FORMAT
    if not settings.USE_TZ or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return _when
    zone = timezone.get_current_timezone()

    def when(value: dt.datetime | None) -> str | None:
        if value is None or value.tzinfo is None:
            return _when(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return when


def _text(value) -> str | None:
    return None if value is None else str(value)


def _item_data(item: dict, when: Callable) -> dict:
    return {
        "id": item["id"],
        "category": item["category__slug"],
        "description": item["description"],
        "likelihood": item["likelihood"],
        "severity": item["severity"],
        "mitigation": item["mitigation"],
        "residual_likelihood": item["residual_likelihood"],
        "residual_severity": item["residual_severity"],
        "evidence": [_text(entry) for entry in item["evidence"] or []],
        "category_name": item["category__name"],
        "inherent_score": item["likelihood"] * item["severity"],
        "residual_score": item["residual_likelihood"] * item["residual_severity"],
        "created_at": when(item["created_at"]),
        "updated_at": when(item["updated_at"]),
    }


def _sign_off_data(sign_off: dict, usernames: dict[int, str], when: Callable) -> dict:
    return {
        "id": sign_off["id"],
        "review": sign_off["review_id"],
        "reviewer": usernames[sign_off["reviewer_id"]],
        "submission": sign_off["submission"],
        "decision": sign_off["decision"],
        "comment": sign_off["comment"],
        "conditions": sign_off["conditions"],
        "conflict_of_interest": sign_off["conflict_of_interest"],
        "content_hash": sign_off["content_hash"],
        "void": sign_off["void"],
        "voided_at": when(sign_off["voided_at"]),
        "void_reason": sign_off["void_reason"],
        "created_at": when(sign_off["created_at"]),
    }


def review_list_data(rows: list[dict], relations: dict) -> list[dict]:
    """``RiskReviewSerializer(many=True).data`` for the list, built from plain rows (``review_api_rows`` and
    ``review_api_relations``): the same JSON, key for key, without a serializer and model instance per row,
    item and sign-off (most of the list's time at scale, issue 18). ``test_api_list_rows`` pins the two equal."""
    usernames, groups = relations["usernames"], relations["groups"]
    when = _datetime_formatter()
    data = []
    for row in rows:
        items, sign_offs = relations["items"][row["id"]], relations["sign_offs"][row["id"]]
        if row["deployment__foundation_model_id"] is not None:
            kind, target = (
                "foundation_model",
                relations["targets"]["foundation_model", row["deployment__foundation_model_id"]],
            )
        else:
            kind, target = "adaptation", relations["targets"]["adaptation", row["deployment__adaptation_id"]]
        approvals = [
            s
            for s in sign_offs
            if s["submission"] == row["submission"] and not s["void"] and s["decision"] == Decision.APPROVE
        ]
        approving_groups = {name for s in approvals for name in groups.get(s["reviewer_id"], ())}
        heat_map = review_heat_map(SimpleNamespace(**item) for item in items)
        data.append(
            {
                "id": row["id"],
                "deployment": row["deployment_id"],
                "deployment_name": row["deployment__name"],
                "deployment_owner": usernames[row["deployment__owner_id"]],
                "target": {
                    "kind": kind,
                    "id": target["id"],
                    "name": _text(target["name"]),
                    "version": _text(target["version"]),
                    "artifact_digest": _text(target["artifact_digest"]),
                },
                "policy": row["policy_id"],
                "policy_name": row["policy__name"],
                "title": row["title"],
                "summary": row["summary"],
                "state": row["state"],
                "submission": row["submission"],
                "content_hash": row["content_hash"],
                "target_digest": row["target_digest"],
                "created_by": usernames[row["created_by_id"]],
                "submitted_by": usernames.get(row["submitted_by_id"]),
                "submitted_at": when(row["submitted_at"]),
                "decided_at": when(row["decided_at"]),
                "approved_at": when(row["approved_at"]),
                "expires_at": when(row["expires_at"]),
                "revoked_at": when(row["revoked_at"]),
                "revoked_reason": row["revoked_reason"],
                "changes_requested_comment": row["changes_requested_comment"],
                "approval": {
                    "approvals": len(approvals),
                    "quorum": row["policy__quorum"],
                    "missing_groups": sorted(set(row["policy__required_groups"] or []) - approving_groups),
                    "conditions": [
                        f"{usernames[s['reviewer_id']]}: {s['conditions']}" for s in approvals if s["conditions"]
                    ],
                },
                "max_inherent_score": max((i["likelihood"] * i["severity"] for i in items), default=None),
                "max_residual_score": max(
                    (i["residual_likelihood"] * i["residual_severity"] for i in items), default=None
                ),
                "heat_map": heat_map,
                "items": [_item_data(item, when) for item in items],
                "sign_offs": [_sign_off_data(s, usernames, when) for s in sign_offs],
                "created_at": when(row["created_at"]),
                "updated_at": when(row["updated_at"]),
            }
        )
    return data
