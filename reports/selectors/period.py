"""The evidence of a period summary: what happened across the registry between two dates."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Q

from audits.models import AuditEvent
from fmgov.documentation.selectors import portfolio_completeness
from fmgov.findings.selectors import finding_list
from fmgov.portfolio.selectors import concentration, footprint
from fmgov.registry.models import Adaptation, Deployment, FoundationModel
from fmgov.reviews.choices import Decision, ReviewState
from fmgov.reviews.models import RiskReview
from reports.models import Report
from reports.selectors.common import (
    chain_verification,
    day,
    event_row,
    evidence_header,
    finding_row,
    model_row,
    ts,
    user_name,
)
from reports.selectors.incident import overdue_flags_during

__all__ = ["period_evidence"]

MAX_STATUS_ROWS = 2000  # the period summary lists at most this many status changes and says so


def period_evidence(report: Report) -> dict[str, Any]:
    start = dt.datetime.combine(report.period_start, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(report.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    in_period = {"created_at__gte": start, "created_at__lt": end}
    evidence = evidence_header(report)
    head_seq = evidence["audit_head"]["seq"]
    models = FoundationModel.objects.filter(**in_period).select_related("owner").order_by("created_at", "id")
    adaptations = (
        Adaptation.objects.filter(**in_period)
        .select_related("owner")
        .prefetch_related("parent_edges__parent_model", "parent_edges__parent_adaptation")
        .order_by("created_at", "id")
    )
    live = (
        Deployment.objects.filter(went_live_at__gte=start, went_live_at__lt=end)
        .select_related("foundation_model", "adaptation", "owner")
        .order_by("went_live_at", "id")
    )
    events = AuditEvent.objects.filter(timestamp__gte=start, timestamp__lt=end, seq__lte=head_seq)
    per_action = Counter()
    per_day = Counter()
    for action, timestamp in events.values_list("action", "timestamp").iterator(chunk_size=5000):
        per_action[action] += 1
        per_day[timestamp.date().isoformat()] += 1
    days = []
    current = report.period_start
    while current <= report.period_end and len(days) < 3700:
        days.append([current.isoformat(), per_day.get(current.isoformat(), 0)])
        current += dt.timedelta(days=1)
    status_events = events.filter(action__startswith="deployment.").exclude(action="deployment.create")
    evidence.update(
        {
            "period": {"start": day(report.period_start), "end": day(report.period_end), "end_inclusive": True},
            "overdue_incidents": overdue_flags_during(start, end),
            "new_models": [
                {
                    **model_row(m),
                    "access": m.get_access_display(),
                    "created_at": ts(m.created_at),
                    "owner": user_name(m.owner),
                }
                for m in models  # fmt: skip
            ],
            "new_adaptations": [
                {
                    "id": a.pk,
                    "name": a.name,
                    "version": a.version,
                    "kind": a.get_kind_display(),
                    "digest": a.artifact_digest,
                    "created_at": ts(a.created_at),
                    "owner": user_name(a.owner),
                    "parents": [str(e.parent_model or e.parent_adaptation) for e in a.parent_edges.all()],
                }
                for a in adaptations  # fmt: skip
            ],
            "went_live": [
                {
                    "id": d.pk,
                    "name": d.name,
                    "environment": d.get_environment_display(),
                    "target": str(d.target),
                    "digest": d.target_digest,
                    "status": d.get_status_display(),
                    "went_live_at": ts(d.went_live_at),
                    "owner": user_name(d.owner),
                }
                for d in live  # fmt: skip
            ],
            "deployment_status_changes": [event_row(e) for e in status_events.order_by("seq")[:MAX_STATUS_ROWS]],
            "deployment_status_changes_total": status_events.count(),
            "reviews": _period_reviews(start, end),
            "findings": _period_findings(start, end),
            "activity": {
                "events_in_period": sum(per_action.values()),
                "per_action": [[a, n] for a, n in sorted(per_action.items(), key=lambda kv: (-kv[1], kv[0]))],
                "per_day": days,
            },
            "portfolio": _period_portfolio(report.period_start, report.period_end),
            "audit_trail": {"verification": chain_verification()},
        }
    )
    return evidence


def _period_portfolio(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Concentration of power and documentation completeness (as at generation) and the footprint over the period."""
    return {
        "concentration": concentration(),
        "footprint": footprint(period_start=start, period_end=end),
        "documentation": portfolio_completeness(),
    }


def _period_reviews(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    rows = (
        RiskReview.objects.filter(
            Q(decided_at__gte=start, decided_at__lt=end)
            | Q(revoked_at__gte=start, revoked_at__lt=end)
            | Q(state=ReviewState.EXPIRED, expires_at__gte=start, expires_at__lt=end)
        )
        .select_related("deployment", "policy")
        .prefetch_related("sign_offs__reviewer")
        .order_by("decided_at", "id")
    )

    def in_period(value):
        return value is not None and start <= value < end

    decided, expired, revoked = [], [], []
    for r in rows:
        row = {"id": r.pk, "title": str(r), "deployment": r.deployment.name, "state": r.state,
               "content_hash": r.content_hash, "decided_at": ts(r.decided_at), "expires_at": ts(r.expires_at),
               "revoked_at": ts(r.revoked_at), "revoked_reason": r.revoked_reason,
               "approvals": sum(s.decision == Decision.APPROVE and not s.void for s in r.sign_offs.all())}  # fmt: skip
        if in_period(r.decided_at):
            decided.append(row)
        if r.state == ReviewState.EXPIRED and in_period(r.expires_at):
            expired.append(row)
        if in_period(r.revoked_at):
            revoked.append(row)
    return {"decided": decided, "expired": expired, "revoked": revoked}


def _period_findings(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Findings of every source opened in the period."""
    rows = finding_list().filter(opened_at__gte=start, opened_at__lt=end).order_by("opened_at", "id")
    return {"findings": [finding_row(f) for f in rows]}
