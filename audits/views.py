"""Audit trail pages: a filterable event list with before/after diffs, and the htmx "verify chain" action."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audits.changes import ABSENT, change_pairs
from audits.filters import AuditEventFilter
from audits.pagination import TrailPaginator
from audits.selectors import audit_event_list, verify_chain
from fmgov.core.roles import Role
from fmgov.core.views_util import role_required

AUDIT_ROLES = (Role.AUDITOR, Role.ADMIN)
FILTER_LABELS = {
    "object_type": ("Object type", "registry.deployment"),
    "object_id": ("Object id", "42"),
    "actor": ("Actor", "username"),
    "action": ("Action", "review.submit"),
    "action_prefix": ("Action starts with", "review."),
    "since": ("From", "2026-11-01T00:00Z"),
    "until": ("Until", "2026-11-30T23:59Z"),
}


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def change_rows(changes: Any) -> list[dict[str, str]]:
    """One row per changed field, for the current ``{field: [old, new]}`` shape and the older ones alike."""
    return [
        {"field": field, "before": "" if old is ABSENT else _show(old), "after": "" if new is ABSENT else _show(new)}
        for field, old, new in change_pairs(changes)
    ]


@role_required(*AUDIT_ROLES)
def event_list(request: HttpRequest) -> HttpResponse:
    filterset = AuditEventFilter(request.GET, queryset=audit_event_list())
    fields = filterset.form.fields
    for name, (label, placeholder) in FILTER_LABELS.items():
        if name in fields:
            fields[name].label = label
            fields[name].widget.attrs["placeholder"] = placeholder
    page = TrailPaginator(filterset.qs, 50).get_page(request.GET.get("page"))
    for event in page:
        event.change_rows = change_rows(event.changes)
    return render(request, "audits/event_list.html", {"filter": filterset, "page": page})


@role_required(*AUDIT_ROLES)
def verify(request: HttpRequest) -> HttpResponse:
    return render(request, "audits/_verify_result.html", {"result": verify_chain()})
