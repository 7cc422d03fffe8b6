"""When documentation is owed, and the finding a deployed model with required fields missing opens.

Chapter V of the AI Act (general-purpose AI models) applies from 2 August 2025 (Art. 113(b)); a model placed on
the market before that date has until 2 August 2027 (Art. 111(3)). A model counts as placed on the market on its
documented EU market date, else when the organisation first put a deployment of it live.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.utils import timezone

from fmgov.core.actors import Actor
from fmgov.documentation.fields import required_fields
from fmgov.documentation.models import DocumentationRecord
from fmgov.documentation.selectors import completeness
from fmgov.documentation.services import default_role
from fmgov.findings.choices import FindingSource, Severity
from fmgov.findings.services import finding_open
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.models import Deployment

__all__ = ["OBLIGATIONS_APPLY", "LEGACY_DEADLINE", "obligation_applies_from", "documentation_obligations_check"]

OBLIGATIONS_APPLY = date(2025, 8, 2)  # Art. 113(b)
LEGACY_DEADLINE = date(2027, 8, 2)  # Art. 111(3)
SYSTEM = "fmgov.documentation"


def obligation_applies_from(placed_on_market: date) -> tuple[date, str]:
    """(the date the documentation is owed from, its legal basis)."""
    if placed_on_market < OBLIGATIONS_APPLY:
        return LEGACY_DEADLINE, "Art. 111(3): on the EU market before 2 August 2025"
    return placed_on_market, "Art. 53(1)(a)-(b), applicable from 2 August 2025 (Art. 113(b))"


def _placed_on_market(record: DocumentationRecord | None, first_live: date) -> date:
    value = record.current_version.fields.get("eu_market_date") if record else None
    try:
        return date.fromisoformat(value) if value else first_live
    except ValueError:
        return first_live


def documentation_obligations_check(*, actor: Actor = None, today: date | None = None) -> dict[str, Any]:
    """Open one finding per live model or adaptation whose required documentation is missing and already owed.

    Idempotent: the dedupe key is the target, so a daily run does not pile findings up; a target documented in
    full, or whose obligation lies ahead, opens nothing.
    """
    today = today or timezone.localdate()
    live = (
        Deployment.objects.filter(status=DeploymentStatus.LIVE)
        .select_related("foundation_model", "adaptation")
        .order_by("pk")
    )
    by_target: dict[tuple[str, int], list[Deployment]] = defaultdict(list)
    for deployment in live:
        kind = "foundation_model" if deployment.foundation_model_id else "adaptation"
        by_target[(kind, deployment.target.pk)].append(deployment)
    records = {
        (r.target_kind, r.target.pk): r
        for r in DocumentationRecord.objects.select_related("current_version", "foundation_model", "adaptation")
    }
    counts = {"checked": len(by_target), "complete": 0, "not_yet_owed": 0, "opened": 0, "already_open": 0}
    for key, deployments in sorted(by_target.items()):
        target, record = deployments[0].target, records.get(key)
        if record is not None:
            missing = completeness(record.role, record.systemic_risk, record.current_version.fields)["missing"]
        else:
            missing = required_fields(default_role(target), False)
        if not missing:
            counts["complete"] += 1
            continue
        first_live = min((d.went_live_at or d.created_at) for d in deployments)
        owed_from, basis = obligation_applies_from(_placed_on_market(record, timezone.localdate(first_live)))
        if today < owed_from:
            counts["not_yet_owed"] += 1
            continue
        _, created = finding_open(
            source=FindingSource.DOCUMENTATION,
            subject=target,
            severity=Severity.HIGH,
            title=f"Model documentation of {target} lacks {len(missing)} required field(s), owed since {owed_from}",
            detail={
                "obligation_applies_from": owed_from.isoformat(),
                "legal_basis": basis,
                "missing": missing,
                "record": record.pk if record else None,
                "deployments": [d.pk for d in deployments],
            },
            dedupe_key=f"documentation:{key[0]}:{key[1]}",
            actor=actor,
            system=SYSTEM if actor is None else "",
        )
        counts["opened" if created else "already_open"] += 1
    return counts
