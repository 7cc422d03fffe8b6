"""Adaptation pages: inventory, detail with lineage, create, edit."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from fmgov.core.views import render_markdown
from fmgov.core.views_util import role_required
from fmgov.registry import services
from fmgov.registry.forms import (
    AdaptationFilterForm,
    AdaptationForm,
)
from fmgov.registry.selectors import (
    adaptation_list,
    deployment_list,
    foundation_model_list,
)
from fmgov.registry.views._common import WRITERS, _edit, _inventory, _lineage_graph, _may_change, _save_form

ADAPTATION_SORTS = {"name": "name", "kind": "kind", "owner": "owner__username", "created": "created_at"}


@login_required
def adaptation_list_view(request: HttpRequest) -> HttpResponse:
    form = AdaptationFilterForm(request.GET or None)
    queryset = adaptation_list()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            queryset = queryset.filter(Q(name__icontains=q) | Q(purpose__icontains=q) | Q(hf_repo_id__icontains=q))
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
    context = _inventory(request, form, queryset, ADAPTATION_SORTS, "name")
    page = context["page"]
    parent_models = {e.parent_model_id for a in page for e in a.parent_edges.all() if e.parent_model_id}
    parent_adaptations = {e.parent_adaptation_id for a in page for e in a.parent_edges.all() if e.parent_adaptation_id}
    names = {("model", m.pk): str(m) for m in foundation_model_list().filter(pk__in=parent_models)}
    names |= {("adaptation", a.pk): str(a) for a in adaptation_list().filter(pk__in=parent_adaptations)}
    context["rows"] = [
        {
            "adaptation": a,
            "parents": [
                (
                    "model" if e.parent_model_id else "adaptation",
                    e.parent_model_id or e.parent_adaptation_id,
                    names.get(
                        ("model", e.parent_model_id) if e.parent_model_id else ("adaptation", e.parent_adaptation_id)
                    ),
                )
                for e in a.parent_edges.all()
            ],
        }
        for a in page
    ]
    return render(request, "registry/adaptation_list.html", context)


@role_required(*WRITERS)
def adaptation_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("model"):
        initial["derived_from_models"] = [request.GET["model"]]
    if request.GET.get("adaptation"):
        initial["derived_from_adaptations"] = [request.GET["adaptation"]]
    form = AdaptationForm(request.POST or None, initial=initial)
    return _save_form(
        request,
        form,
        lambda: services.adaptation_create(actor=request.user, **form.service_fields()),
        saved="Registered adaptation {}.",
        detail="registry:adaptation-detail",
        title="Register an adaptation",
    )


@login_required
def adaptation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    adaptation = get_object_or_404(adaptation_list(), pk=pk)
    svg, ancestors, below = _lineage_graph(adaptation=adaptation)
    context = {
        "adaptation": adaptation,
        "card": render_markdown(adaptation.model_card),
        "versions": adaptation_list().filter(name=adaptation.name).exclude(pk=adaptation.pk).order_by("-created_at"),
        "deployments": deployment_list().filter(adaptation=adaptation),
        "lineage_svg": svg,
        "ancestors": ancestors,
        "descendants": below,
        "may_change": _may_change(request.user, adaptation),
    }
    return render(request, "registry/adaptation_detail.html", context)


@role_required(*WRITERS)
def adaptation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    adaptation = get_object_or_404(adaptation_list(), pk=pk)
    initial = {
        "derived_from_models": adaptation.derived_from_models,
        "derived_from_adaptations": adaptation.derived_from_adaptations,
    }
    form = AdaptationForm(request.POST or None, instance=adaptation, initial=initial)

    def save():
        services.adaptation_update(adaptation=adaptation, actor=request.user, **form.service_fields())

    return _edit(request, adaptation, form, save, "registry:adaptation-detail", f"Edit {adaptation}")
