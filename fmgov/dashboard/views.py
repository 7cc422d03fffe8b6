"""The dashboard: one page over every app (inventory, reviews, evaluations, portfolio, the trail's head).

It reads each app through its selectors, so it lives at the top of the dependency order.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audits.cached_reads import by_trail_head
from audits.models import Checkpoint
from audits.selectors import chain_head
from fmgov.core.roles import Role, has_role
from fmgov.documentation.selectors import portfolio_completeness
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.selectors import run_list
from fmgov.findings.choices import FindingSource
from fmgov.findings.selectors import active_finding_count, active_findings
from fmgov.portfolio.choices import ConcentrationBand
from fmgov.portfolio.selectors import concentration, footprint
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.selectors import adaptation_list, deployment_list, foundation_model_list
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.selectors import review_awaiting, review_list

__all__ = ["dashboard"]

EXPIRY_WINDOW_DAYS = 30


def _registry_counts() -> dict:
    by_status = dict(deployment_list().order_by().values_list("status").annotate(n=Count("id")))
    return {
        "models": foundation_model_list().count(),
        "adaptations": adaptation_list().count(),
        "deployments": [(value, label, by_status.get(value, 0)) for value, label in DeploymentStatus.choices],
        "deployments_total": sum(by_status.values()),
    }


def _review_panels(user) -> dict:
    now = timezone.now()
    expiring = review_list().filter(
        state=ReviewState.APPROVED,
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(days=EXPIRY_WINDOW_DAYS),
    )
    mine = review_list().none()
    if has_role(user, Role.ENGINEER, Role.ADMIN):
        mine = review_list().filter(
            Q(created_by=user) | Q(deployment__owner=user),
            state__in=[ReviewState.DRAFT, ReviewState.CHANGES_REQUESTED],
        )
    return {
        "my_reviews": list(mine.order_by("-updated_at", "-pk")[:10]),
        "awaiting": list(review_awaiting(user).order_by("submitted_at", "pk")[:10]),
        "expiring": list(expiring.order_by("expires_at", "pk")[:10]),
        "expiry_window": EXPIRY_WINDOW_DAYS,
    }


def _evaluation_panels() -> dict:
    failing = run_list().filter(Q(state=RunState.FAILED) | Q(passed=False))
    return {
        "open_findings": list(active_findings()[:10]),
        "failing_runs": list(failing.order_by("-finished_at", "-id")[:10]),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    head = seq, head_hash = chain_head()
    checkpoint = Checkpoint.objects.order_by("-seq", "-id").first()
    today, zone = timezone.localdate(), timezone.get_current_timezone_name()
    context = {
        "chain_seq": seq,
        "chain_hash": head_hash,
        "checkpoint": checkpoint,
        **_review_panels(request.user),
        **by_trail_head("dashboard.panels", head, lambda: _organisation_panels(today), today.isoformat(), zone),
    }
    return render(request, "dashboard/dashboard.html", context)


def _organisation_panels(today: dt.date) -> dict:
    """The panels that are the same for every user: the inventory, evaluations, the portfolio, documentation.

    At the scale of a large organisation they count and sum over every adaptation, deployment and run (the
    concentration 0.2 s, the footprint 0.6 s, the failing runs and the counts 0.1 s at 100,000 adaptations,
    10,000 deployments and 100,000 runs), so the dashboard caches them under the trail head
    (``audits.cached_reads.by_trail_head``): what they read (models, adaptations and lineage edges,
    deployments and their status changes, runs and findings, documentation records, the portfolio settings)
    changes only through audited services. The footprint's period ends today, whole days in the site's time
    zone: the date is in the key.
    """
    return {
        **_registry_counts(),
        "evaluations": _evaluation_panels(),
        "portfolio": _portfolio_panels(today),
        "documentation": _documentation_panel(),
    }


def _portfolio_panels(today: dt.date) -> dict:
    """Concentration of power and the footprint of the last 30 days, portfolio-wide (constant queries)."""
    report = concentration()
    return {
        "concentration": report,
        "band_label": ConcentrationBand(report["band"]).label,
        "footprint": _footprint_summary(today),
        "open_findings": active_finding_count(source=FindingSource.PORTFOLIO),
    }


def _footprint_summary(today: dt.date) -> dict:
    """The footprint of the 30 days to ``today`` as the panel shows it: totals, no row per deployment."""
    figures = footprint(period_start=today - dt.timedelta(days=29), period_end=today)
    inference = dict(figures["inference"])
    inference["deployments_in_period"] = len(inference.pop("deployments"))
    return figures | {"inference": inference}


def _documentation_panel() -> dict:
    """The portfolio's EU AI Act documentation: required fields filled over required, and who has no record."""
    score = portfolio_completeness()
    return score | {"percent": None if score["score"] is None else round(score["score"] * 100)}
