"""Writes: portfolio settings, and the portfolio check that opens findings."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audits.services import audit_record, diff, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.tasks_util import enqueue_on_commit
from fmgov.findings.choices import FindingSource
from fmgov.findings.models import Finding
from fmgov.findings.services import finding_open
from fmgov.portfolio.choices import PortfolioFindingKind
from fmgov.portfolio.models import PortfolioSettings
from fmgov.portfolio.selectors import concentration
from fmgov.registry.models import FoundationModel

__all__ = ["portfolio_settings_update", "portfolio_check"]

SYSTEM = "portfolio-check"

SETTINGS_FIELDS = frozenset({"hhi_alert_threshold", "single_point_of_failure_share", "grid_intensity_gco2e_per_kwh"})


@transaction.atomic
def portfolio_settings_update(*, actor: Actor, **fields: Any) -> PortfolioSettings:
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


def _open(
    kind: str, subject_label: str, value: float, threshold: float, details: dict, subject=None, actor: Actor = None
):
    """Open a finding unless one is still active for the same kind and subject; returns it if new."""
    finding, created = finding_open(
        source=FindingSource.PORTFOLIO,
        subject=subject,
        subject_label=subject_label,
        title=f"{PortfolioFindingKind(kind).label}: {subject_label}",
        detail={"kind": kind, "value": value, "threshold": threshold, "details": details},
        dedupe_key=f"portfolio:{kind}:{subject_label}",
        actor=actor,
        system=SYSTEM,
    )
    return finding if created else None


@transaction.atomic
def portfolio_check(*, actor: Actor = None) -> list[Finding]:
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
    models = FoundationModel.objects.in_bulk([row["foundation_model"] for row in report["single_points_of_failure"]])
    for row in report["single_points_of_failure"]:
        finding = _open(
            PortfolioFindingKind.SINGLE_POINT_OF_FAILURE,
            row["name"],
            row["share_at_risk"],
            report["single_point_of_failure_share"],
            {"deployments_at_risk": row["deployments_at_risk"], "provider": row["provider"]},
            subject=models[row["foundation_model"]],
            actor=actor,
        )
        opened.append(finding)
    opened = [f for f in opened if f is not None]
    if opened:
        from fmgov.portfolio.tasks import notify_portfolio_findings

        enqueue_on_commit(notify_portfolio_findings, [f.pk for f in opened])
    return opened
