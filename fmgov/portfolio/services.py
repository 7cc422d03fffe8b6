"""Writes: portfolio settings, and the portfolio check that opens findings."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from audits.services import audit_record, diff, snapshot
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.portfolio.choices import FINDING_TRANSITIONS, PortfolioFindingKind, PortfolioFindingStatus
from fmgov.portfolio.models import PortfolioFinding, PortfolioSettings
from fmgov.portfolio.selectors import concentration

__all__ = ["portfolio_settings_update", "portfolio_check", "portfolio_finding_transition"]

SETTINGS_FIELDS = frozenset({"hhi_alert_threshold", "single_point_of_failure_share", "grid_intensity_gco2e_per_kwh"})


@transaction.atomic
def portfolio_settings_update(*, actor, **fields: Any) -> PortfolioSettings:
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins may change the portfolio thresholds.")
    unknown = sorted(set(fields) - SETTINGS_FIELDS)
    if unknown:
        raise InvalidInput("Unknown fields.", field_errors={k: ["Unknown field."] for k in unknown})
    row, _ = PortfolioSettings.objects.select_for_update().get_or_create(pk=1)
    before = snapshot(row)
    for key, value in fields.items():
        setattr(row, key, value)
    try:
        row.full_clean()
    except ValidationError as exc:
        raise InvalidInput("Invalid portfolio settings.", field_errors=exc.message_dict) from exc
    changed = diff(before, snapshot(row))
    if changed:
        row.save()
        audit_record(action="portfolio.settings_update", actor=actor, obj=row, changes=changed)
    return row


def _open(kind: str, subject: str, value: float, threshold: float, details: dict, model_id=None, actor=None):
    """Open a finding unless one is already open for the same subject; returns it if new."""
    if PortfolioFinding.objects.filter(
        kind=kind, subject=subject, status__in=[PortfolioFindingStatus.OPEN, PortfolioFindingStatus.ACKNOWLEDGED]
    ).exists():
        return None
    try:
        with transaction.atomic():
            finding = PortfolioFinding.objects.create(
                kind=kind,
                subject=subject,
                value=value,
                threshold=threshold,
                details=details,
                foundation_model_id=model_id,
            )
    except IntegrityError:  # a concurrent check opened the same finding first
        return None
    audit_record(
        action="portfolio_finding.open",
        actor=actor,
        system="portfolio-check",
        obj=finding,
        changes={"kind": kind, "subject": subject, "value": value, "threshold": threshold, "details": details},
    )
    return finding


@transaction.atomic
def portfolio_check(*, actor=None) -> list[PortfolioFinding]:
    """Open findings for a concentration above the alert threshold and for each single point of failure."""
    report = concentration()
    opened = []
    if report["alert"]:
        top = report["providers"][0]["provider"] if report["providers"] else ""
        finding = _open(
            PortfolioFindingKind.CONCENTRATION,
            f"provider HHI ({report['band']})",
            report["hhi"],
            report["alert_threshold"],
            {"providers": report["providers"], "largest_provider": top, "live_deployments": report["live_deployments"]},
            actor=actor,
        )
        opened.append(finding)
    for row in report["single_points_of_failure"]:
        finding = _open(
            PortfolioFindingKind.SINGLE_POINT_OF_FAILURE,
            row["name"],
            row["share_at_risk"],
            report["single_point_of_failure_share"],
            {"deployments_at_risk": row["deployments_at_risk"], "provider": row["provider"]},
            model_id=row["foundation_model"],
            actor=actor,
        )
        opened.append(finding)
    opened = [f for f in opened if f is not None]
    if opened:
        from fmgov.portfolio.tasks import notify_portfolio_findings

        enqueue_on_commit(notify_portfolio_findings, [f.pk for f in opened])
    return opened


@transaction.atomic
def portfolio_finding_transition(*, finding: PortfolioFinding, actor, status: str, note: str = "") -> PortfolioFinding:
    if not has_role(actor, Role.ADMIN, Role.REVIEWER):
        raise NotAllowed("Only reviewers and admins may acknowledge or resolve portfolio findings.")
    finding = PortfolioFinding.objects.select_for_update().get(pk=finding.pk)
    if status not in FINDING_TRANSITIONS.get(finding.status, set()):
        raise TransitionNotAllowed(f"A {finding.status} finding cannot become {status}.")
    before = finding.status
    finding.status = status
    finding.note = note or finding.note
    finding.closed_by = actor if status == PortfolioFindingStatus.RESOLVED else finding.closed_by
    finding.save(update_fields=["status", "note", "closed_by", "updated_at"])
    audit_record(
        action=f"portfolio_finding.{'acknowledge' if status == 'acknowledged' else 'resolve'}",
        actor=actor,
        obj=finding,
        changes={"status": [before, status], "note": note},
    )
    return finding
