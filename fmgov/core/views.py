"""The health check, the 500 page, and small helpers every app's pages share.

Pages read through each app's selectors and write through its services; a
refused service call (``DomainError``) becomes a message on the page, and a
refusal naming fields becomes errors on those form fields.
"""

from __future__ import annotations

import markdown
import nh3
from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from fmgov.core.exceptions import DomainError

__all__ = [
    "server_error",
    "healthz",
    "show_refusal",
    "paginate",
    "sort_queryset",
    "sort_headers",
    "render_markdown",
]

PAGE_SIZE = 25


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
