"""Foundation model pages: inventory, detail with lineage and model card, create, edit, model-card import."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from fmgov.core.exceptions import DomainError
from fmgov.core.uploads import MULTIPART_SLACK_BYTES, PayloadTooLarge, ensure_body_size
from fmgov.core.views import render_markdown, show_refusal
from fmgov.core.views_util import role_required
from fmgov.registry import services
from fmgov.registry.forms import (
    CardImportForm,
    FoundationModelForm,
    ModelFilterForm,
)
from fmgov.registry.model_cards import MAX_CARD_BYTES
from fmgov.registry.selectors import (
    deployment_list,
    foundation_model_list,
)
from fmgov.registry.views._common import WRITERS, _edit, _inventory, _lineage_graph, _may_change, _save_form

MODEL_SORTS = {"name": "name", "provider": "provider", "modality": "modality", "released": "release_date",
               "created": "created_at"}  # fmt: skip


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    form = ModelFilterForm(request.GET or None)
    queryset = foundation_model_list()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            queryset = queryset.filter(
                Q(name__icontains=q) | Q(provider__icontains=q) | Q(hf_repo_id__icontains=q) | Q(license__icontains=q)
            )
        if data["modality"]:
            queryset = queryset.filter(modality=data["modality"])
        if data["provider"]:
            queryset = queryset.filter(provider__iexact=data["provider"])
    return render(request, "registry/model_list.html", _inventory(request, form, queryset, MODEL_SORTS, "name"))


@role_required(*WRITERS)
def model_create(request: HttpRequest) -> HttpResponse:
    form = FoundationModelForm(request.POST or None)
    return _save_form(
        request,
        form,
        lambda: services.foundation_model_create(actor=request.user, **form.cleaned_data),
        saved="Registered foundation model {}.",
        detail="registry:model-detail",
        title="Register a foundation model",
    )


@login_required
def model_detail(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(foundation_model_list(), pk=pk)
    svg, _, below = _lineage_graph(model=model)
    context = {
        "model": model,
        "card": render_markdown(model.model_card),
        "versions": foundation_model_list().filter(name=model.name).exclude(pk=model.pk).order_by("-created_at"),
        "deployments": deployment_list().filter(foundation_model=model),
        "lineage_svg": svg,
        "descendants": below,
        "may_change": _may_change(request.user, model),
    }
    return render(request, "registry/model_detail.html", context)


@role_required(*WRITERS)
def card_import(request: HttpRequest) -> HttpResponse:
    """Create or update a model or adaptation from a Hugging Face model card (parsed by the registry's service)."""
    if request.method == "POST":
        try:  # refused by its declared size before Django reads (and spools) the body
            ensure_body_size(request, max_bytes=MAX_CARD_BYTES + MULTIPART_SLACK_BYTES, field="card_file")
        except PayloadTooLarge as exc:
            messages.error(request, str(exc.detail["detail"]))
            context = {"form": CardImportForm(), "title": "Import a Hugging Face model card", "multipart": True}
            return render(request, "registry/form.html", context, status=413)
    form = CardImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.model_card_import(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            show_refusal(request, exc, form)
        else:
            record = result.record
            kind = "adaptation" if result.kind == "adaptation" else "foundation model"
            messages.success(request, f"{'Registered' if result.created else 'Updated'} {kind} {record} from its card.")
            if result.unresolved_base_models:
                messages.warning(
                    request,
                    "Base models named by the card but not in the registry: "
                    + ", ".join(result.unresolved_base_models),
                )
            name = "registry:adaptation-detail" if result.kind == "adaptation" else "registry:model-detail"
            return redirect(name, record.pk)
    return render(
        request, "registry/form.html", {"form": form, "title": "Import a Hugging Face model card", "multipart": True}
    )


@role_required(*WRITERS)
def model_edit(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(foundation_model_list(), pk=pk)
    form = FoundationModelForm(request.POST or None, instance=model)

    def save():
        services.foundation_model_update(foundation_model=model, actor=request.user, **form.cleaned_data)

    return _edit(request, model, form, save, "registry:model-detail", f"Edit {model}")
