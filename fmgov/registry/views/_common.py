"""What every registry page shares: ownership, the lineage drawing, the edit and inventory helpers."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from fmgov.core.roles import Role, has_role
from fmgov.core.svg import DagNode, lineage_svg
from fmgov.core.views import paginate, sort_headers, sort_queryset
from fmgov.core.views_util import call_service
from fmgov.registry.lineage import LineageRoot
from fmgov.registry.selectors import (
    adaptation_lineage,
    adaptation_list,
    descendant_adaptations,
)

WRITERS = (Role.ENGINEER, Role.ADMIN)


def _may_change(user, obj) -> bool:
    return has_role(user, Role.ADMIN) or (has_role(user, Role.ENGINEER) and obj.owner_id == user.pk)


def _v(version: str) -> str:
    return version if version[:1] in ("v", "V") else f"v{version}"


# --- lineage -------------------------------------------------------------------------------------


class Nearest(list):
    """The nearest rows of a lineage list, with how many there are in all (``total``) and how many are not shown."""

    def __init__(self, rows, total: int, api_url: str = "") -> None:
        super().__init__(rows)
        self.total = total
        self.hidden = total - len(self)
        self.api_url = api_url  # where the complete list is


def _graph_limit() -> int:
    """How many descendants (and ancestors) the page draws: a page drawing 10,000 nodes takes seconds."""
    return max(1, settings.LINEAGE_GRAPH_MAX_NODES)


def _nearest_model_descendants(model_id: int, limit: int) -> Nearest:
    """The ``limit`` nearest descendants of a model and their number: two index reads of the stored lineage.

    Nearest by depth then id (the index order, so no sort of the whole subtree); named for people afterwards.
    """
    stored = LineageRoot.objects.filter(foundation_model_id=model_id)
    rows = list(
        stored.order_by("depth", "adaptation_id").values_list(
            "adaptation_id", "adaptation__name", "adaptation__version", "adaptation__kind",
            "adaptation__owner_id", "depth",
        )[:limit]
    )  # fmt: skip
    total = stored.count()  # asked even when fewer than the limit, so the page always runs the same queries
    keys = ("id", "name", "version", "kind", "owner_id", "depth")
    ordered = sorted(
        (dict(zip(keys, row, strict=True)) for row in rows), key=lambda r: (r["depth"], r["name"], r["id"])
    )
    return Nearest(ordered, total)


def _lineage_graph(*, model=None, adaptation=None):
    """The drawing of the nearest ancestors and descendants (at most ``LINEAGE_GRAPH_MAX_NODES`` each), and both lists.

    Bounded so that a model with thousands of descendants draws as fast as one with three; the lineage
    API and ``descendants`` list give everything. Four queries at most.
    """
    limit = _graph_limit()
    if model is not None:
        ancestors = Nearest([], 0)
        below = _nearest_model_descendants(model.pk, limit)
        below.api_url = reverse("foundation-model-descendants", args=[model.pk])
        current_key = ("model", model.pk)
        models_by_id = {model.pk: model}
    else:
        every_ancestor = adaptation_lineage(adaptation_id=adaptation.pk)
        ancestors = Nearest(
            every_ancestor[:limit], len(every_ancestor), reverse("adaptation-lineage", args=[adaptation.pk])
        )
        every_below = descendant_adaptations(adaptation_id=adaptation.pk)
        below = Nearest(every_below[:limit], len(every_below), reverse("adaptation-descendants", args=[adaptation.pk]))
        current_key = ("adaptation", adaptation.pk)
        models_by_id = {}
    adaptation_ids = {row["id"] for row in below} | {a["id"] for a in ancestors if a["kind"] == "adaptation"}
    if adaptation is not None:
        adaptation_ids.add(adaptation.pk)
    edges = {a.pk: a for a in adaptation_list().filter(pk__in=adaptation_ids)}
    nodes: list[DagNode] = []
    for m in [a for a in ancestors if a["kind"] == "foundation_model"]:
        models_by_id[m["id"]] = m
    for pk, m in models_by_id.items():
        name = m.name if hasattr(m, "name") else m["name"]
        version = m.version if hasattr(m, "version") else m["version"]
        nodes.append(
            DagNode(
                key=("model", pk),
                label=name,
                sublabel=f"{_v(version)} · foundation model",
                href=reverse("registry:model-detail", args=[pk]),
                current=current_key == ("model", pk),
            )
        )
    for pk, a in edges.items():
        parents = [("model", e.parent_model_id) if e.parent_model_id else ("adaptation", e.parent_adaptation_id)
                   for e in a.parent_edges.all()]  # fmt: skip
        nodes.append(
            DagNode(
                key=("adaptation", pk),
                label=a.name,
                sublabel=f"{_v(a.version)} · {a.get_kind_display()}",
                href=reverse("registry:adaptation-detail", args=[pk]),
                current=current_key == ("adaptation", pk),
                parents=parents,
            )
        )
    subject = model or adaptation
    related = below.total + ancestors.total
    title = f"Lineage of {subject}: {related} related model(s) and adaptation(s)"
    if below.hidden or ancestors.hidden:
        title += f", the nearest {len(nodes) - 1} drawn"
    return lineage_svg(nodes, title=title), ancestors, below


def _save_form(
    request: HttpRequest, form: forms.BaseForm, save: Callable[[], Model], *, saved: str, detail: str, title: str
) -> HttpResponse:
    """The form page of a create or an edit: a valid form goes to the service, whose refusal shows on the form.

    ``save`` calls the service and returns the record; ``saved`` is the success
    message, ``{}`` standing for the record; then the record's ``detail`` page.
    """
    if request.method == "POST" and form.is_valid():
        done = call_service(request, save, success=saved.format, to=lambda obj: (detail, obj.pk), form=form)
        if done is not None:
            return done
    return render(request, "registry/form.html", {"form": form, "title": title})


def _edit(request: HttpRequest, obj, form: forms.BaseForm, save, detail: str, title: str) -> HttpResponse:
    """Edit through the service; only the owner or an admin may (the service checks, the page says so)."""
    if not _may_change(request.user, obj):
        messages.error(request, "You may only change records you own.")
        return redirect(detail, obj.pk)

    def save_obj():
        save()
        return obj

    return _save_form(request, form, save_obj, saved="Saved {}.", detail=detail, title=title)


def _inventory(request: HttpRequest, form: forms.BaseForm, queryset, sorts: dict[str, str], default: str) -> dict:
    """What every inventory page shows: the filter form, sortable headers, one page of rows, whether to offer "add"."""
    queryset, sort = sort_queryset(request, queryset, sorts, default)
    return {
        "sorts": sort_headers(request, sorts, sort),
        "form": form,
        "page": paginate(request, queryset),
        "sort": sort,
        "may_create": has_role(request.user, *WRITERS),
    }
