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
    seq, head_hash = chain_head()
    checkpoint = Checkpoint.objects.order_by("-seq", "-id").first()
    context = {
        "chain_seq": seq,
        "chain_hash": head_hash,
        "checkpoint": checkpoint,
        **_registry_counts(),
        **_review_panels(request.user),
        "evaluations": _evaluation_panels(),
        "portfolio": _portfolio_panels(),
        "documentation": _documentation_panel(),
    }
    return render(request, "dashboard/dashboard.html", context)


def _portfolio_panels() -> dict:
    """Concentration of power and the footprint of the last 30 days, portfolio-wide (constant queries)."""
    today = timezone.localdate()
    report = concentration()
    return {
        "concentration": report,
        "band_label": ConcentrationBand(report["band"]).label,
        "footprint": footprint(period_start=today - dt.timedelta(days=29), period_end=today),
        "open_findings": active_finding_count(source=FindingSource.PORTFOLIO),
    }


def _documentation_panel() -> dict:
    """The portfolio's EU AI Act documentation: required fields filled over required, and who has no record."""
    score = portfolio_completeness()
    return score | {"percent": None if score["score"] is None else round(score["score"] * 100)}
