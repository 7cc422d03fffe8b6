"""The dashboard, the health check, and small helpers every app's pages share.

Pages read through each app's selectors and write through its services; a
refused service call (``DomainError``) becomes a message on the page, and a
refusal naming fields becomes errors on those form fields.
"""

from __future__ import annotations

import datetime as dt
import importlib

import markdown
import nh3
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from audits.models import Checkpoint
from audits.selectors import chain_head
from fmgov.core.exceptions import DomainError
from fmgov.core.roles import Role, has_role

__all__ = [
    "server_error",
    "healthz",
    "dashboard",
    "show_refusal",
    "paginate",
    "sort_queryset",
    "sort_headers",
    "render_markdown",
    "optional_module",
]

PAGE_SIZE = 25
EXPIRY_WINDOW_DAYS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    """500: JSON for API clients, the page for people. Nothing was half-written (services are atomic)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal server error; it was logged. Nothing was half-written."}, status=500)
    return render(request, "500.html", status=500)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and docker compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


# --- helpers for every app's views ----------------------------------------------------------------


def show_refusal(request: HttpRequest, exc: DomainError, form: forms.BaseForm | None = None) -> None:
    """The service's message as a page message, and its per-field errors on the form's fields."""
    messages.error(request, exc.message)
    if form is None:
        return
    for name, errors in exc.field_errors.items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error if target else f"{name.replace('_', ' ')}: {error}")


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def sort_queryset(request: HttpRequest, queryset: QuerySet, allowed: dict[str, str], default: str) -> tuple:
    """Order by ``?sort=key`` or ``?sort=-key`` among ``allowed`` (key -> field); returns (queryset, sort)."""
    sort = request.GET.get("sort", default)
    key = sort.removeprefix("-")
    if key not in allowed:
        sort, key = default, default.removeprefix("-")
    field = allowed[key]
    return queryset.order_by(("-" if sort.startswith("-") else "") + field, "pk"), sort


def sort_headers(request: HttpRequest, allowed: dict[str, str], sort: str) -> dict[str, dict]:
    """For each sortable column: the link that sorts by it (toggling direction) and its aria-sort value."""
    params = request.GET.copy()
    params.pop("page", None)
    headers = {}
    for key in allowed:
        current = sort.removeprefix("-") == key
        descending = sort.startswith("-")
        params["sort"] = f"-{key}" if current and not descending else key
        headers[key] = {
            "href": "?" + params.urlencode(),
            "aria": ("descending" if descending else "ascending") if current else "none",
        }
    return headers


_MD_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "summary", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip


def render_markdown(text: str) -> SafeString:
    """A model card as HTML: Markdown, then nh3 keeps only harmless tags and http(s)/mailto links."""
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=_MD_TAGS,
        attributes={"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 -- sanitised by nh3


def optional_module(name: str):
    """Another app's module if it exists yet (apps are built side by side), else None."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


# --- dashboard ---------------------------------------------------------------------------------------


def _registry_counts() -> dict:
    from fmgov.registry.choices import DeploymentStatus
    from fmgov.registry.selectors import adaptation_list, deployment_list, foundation_model_list

    by_status = dict(deployment_list().order_by().values_list("status").annotate(n=Count("id")))
    return {
        "models": foundation_model_list().count(),
        "adaptations": adaptation_list().count(),
        "deployments": [(value, label, by_status.get(value, 0)) for value, label in DeploymentStatus.choices],
        "deployments_total": sum(by_status.values()),
    }


def _review_panels(user) -> dict:
    from fmgov.reviews.choices import ReviewState
    from fmgov.reviews.selectors import review_awaiting, review_list

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


def _evaluation_panels() -> dict | None:
    selectors = optional_module("fmgov.evaluations.selectors")
    if selectors is None:
        return None
    from fmgov.evaluations.choices import RunState
    from fmgov.findings.selectors import active_findings

    failing = selectors.run_list().filter(Q(state=RunState.FAILED) | Q(passed=False))
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
    }
    return render(request, "dashboard.html", context)


def _portfolio_panels() -> dict:
    """Concentration of power and the footprint of the last 30 days, portfolio-wide (constant queries)."""
    from fmgov.findings.choices import FindingSource
    from fmgov.findings.selectors import active_finding_count
    from fmgov.portfolio.choices import ConcentrationBand
    from fmgov.portfolio.selectors import concentration, footprint

    today = timezone.localdate()
    report = concentration()
    return {
        "concentration": report,
        "band_label": ConcentrationBand(report["band"]).label,
        "footprint": footprint(period_start=today - dt.timedelta(days=29), period_end=today),
        "open_findings": active_finding_count(source=FindingSource.PORTFOLIO),
    }
