"""Registry pages: inventories with search, filters and sorting; detail pages with lineage; deployment actions."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Model, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fmgov.core.exceptions import DomainError
from fmgov.core.roles import Role, has_role
from fmgov.core.svg import DagNode, lineage_svg
from fmgov.core.uploads import MULTIPART_SLACK_BYTES, PayloadTooLarge, ensure_body_size
from fmgov.core.views import paginate, render_markdown, show_refusal, sort_headers, sort_queryset
from fmgov.core.views_util import role_required
from fmgov.registry import services
from fmgov.registry.choices import DEPLOYMENT_TRANSITIONS, DeploymentStatus
from fmgov.registry.endpoints import deployment_run_blocker
from fmgov.registry.forms import (
    AdaptationFilterForm,
    AdaptationForm,
    CardImportForm,
    DeploymentFilterForm,
    DeploymentForm,
    FoundationModelForm,
    ModelFilterForm,
    TransitionForm,
)
from fmgov.registry.hooks import deployment_evaluation_panel, deployment_reviews
from fmgov.registry.model_cards import MAX_CARD_BYTES
from fmgov.registry.selectors import (
    adaptation_lineage,
    adaptation_list,
    deployment_go_live_blocker,
    deployment_list,
    descendant_adaptations,
    foundation_model_list,
)

WRITERS = (Role.ENGINEER, Role.ADMIN)


def _may_change(user, obj) -> bool:
    return has_role(user, Role.ADMIN) or (has_role(user, Role.ENGINEER) and obj.owner_id == user.pk)


def _v(version: str) -> str:
    return version if version[:1] in ("v", "V") else f"v{version}"


# --- lineage -------------------------------------------------------------------------------------


def _lineage_graph(*, model=None, adaptation=None):
    """Nodes of the model or adaptation, its ancestors and its descendants; three queries at most."""
    if model is not None:
        ancestors = []
        below = descendant_adaptations(model_id=model.pk)
        current_key = ("model", model.pk)
        models_by_id = {model.pk: model}
    else:
        ancestors = adaptation_lineage(adaptation_id=adaptation.pk)
        below = descendant_adaptations(adaptation_id=adaptation.pk)
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
    svg = lineage_svg(nodes, title=f"Lineage of {subject}: {len(nodes) - 1} related model(s) and adaptation(s)")
    return svg, ancestors, below


def _save_form(
    request: HttpRequest, form: forms.BaseForm, save: Callable[[], Model], *, saved: str, detail: str, title: str
) -> HttpResponse:
    """The form page of a create or an edit: a valid form goes to the service, whose refusal shows on the form.

    ``save`` calls the service and returns the record; ``saved`` is the success
    message, ``{}`` standing for the record; then the record's ``detail`` page.
    """
    if request.method == "POST" and form.is_valid():
        try:
            obj = save()
        except DomainError as exc:
            show_refusal(request, exc, form)
        else:
            messages.success(request, saved.format(obj))
            return redirect(detail, obj.pk)
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


# --- foundation models ---------------------------------------------------------------------------

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


# --- adaptations ---------------------------------------------------------------------------------

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


# --- deployments ---------------------------------------------------------------------------------

DEPLOYMENT_SORTS = {"name": "name", "status": "status", "environment": "environment", "owner": "owner__username",
                    "created": "created_at"}  # fmt: skip


@login_required
def deployment_list_view(request: HttpRequest) -> HttpResponse:
    form = DeploymentFilterForm(request.GET or None)
    queryset = deployment_list()
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            queryset = queryset.filter(
                Q(name__icontains=q)
                | Q(foundation_model__name__icontains=q)
                | Q(adaptation__name__icontains=q)
                | Q(region__icontains=q)
            )
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["environment"]:
            queryset = queryset.filter(environment=data["environment"])
    context = _inventory(request, form, queryset, DEPLOYMENT_SORTS, "-created")
    return render(request, "registry/deployment_list.html", context)


@role_required(*WRITERS)
def deployment_create(request: HttpRequest) -> HttpResponse:
    initial = {k: request.GET[k] for k in ("foundation_model", "adaptation") if request.GET.get(k)}
    form = DeploymentForm(request.POST or None, initial=initial)
    return _save_form(
        request,
        form,
        lambda: services.deployment_create(actor=request.user, **form.cleaned_data),
        saved="Proposed deployment {}.",
        detail="registry:deployment-detail",
        title="Propose a deployment",
    )


@role_required(*WRITERS)
def deployment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = get_object_or_404(deployment_list(), pk=pk)
    form = DeploymentForm(request.POST or None, instance=deployment)

    def save():
        services.deployment_update(deployment=deployment, actor=request.user, **form.cleaned_data)

    return _edit(request, deployment, form, save, "registry:deployment-detail", f"Edit {deployment}")


ACTIONS = {
    "go-live": (DeploymentStatus.LIVE, "Go live", services.deployment_go_live),
    "suspend": (DeploymentStatus.SUSPENDED, "Suspend", services.deployment_suspend),
    "retire": (DeploymentStatus.RETIRED, "Retire", services.deployment_retire),
}


def _allowed_actions(user, deployment) -> tuple[list[dict], str | None]:
    """The actions this user may take now; go-live only when the reviews app sees a valid approval."""
    if not _may_change(user, deployment):
        return [], None
    allowed, blocker = [], None
    if deployment.status in (DeploymentStatus.PROPOSED, DeploymentStatus.APPROVED, DeploymentStatus.SUSPENDED):
        blocker = deployment_go_live_blocker(deployment)
    for slug, (to, label, _) in ACTIONS.items():
        if to not in DEPLOYMENT_TRANSITIONS[deployment.status] or (to == DeploymentStatus.LIVE and blocker):
            continue
        allowed.append({"slug": slug, "label": label, "needs_reason": to != DeploymentStatus.LIVE})
    return allowed, blocker


@login_required
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = get_object_or_404(deployment_list(), pk=pk)
    actions, blocker = _allowed_actions(request.user, deployment)
    review_rows = deployment_reviews(deployment)
    open_review = next((r for r in review_rows if r.state in ("draft", "submitted", "changes_requested")), None)
    context = {
        "deployment": deployment,
        "actions": actions,
        "blocker": blocker,
        "run_blocker": deployment_run_blocker(deployment),
        "transition_form": TransitionForm(),
        "reviews": review_rows,
        "open_review": open_review,
        "may_change": _may_change(request.user, deployment),
        "may_request_review": has_role(request.user, *WRITERS) and deployment.status != DeploymentStatus.RETIRED,
        "evaluations": deployment_evaluation_panel(deployment),
    }
    return render(request, "registry/deployment_detail.html", context)


@require_POST
@role_required(*WRITERS)
def deployment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    deployment = get_object_or_404(deployment_list(), pk=pk)
    if action not in ACTIONS:
        return redirect("registry:deployment-detail", pk)
    _, label, service = ACTIONS[action]
    form = TransitionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    kwargs = {} if action == "go-live" else {"reason": reason}
    try:
        deployment = service(deployment=deployment, actor=request.user, **kwargs)
    except DomainError as exc:
        show_refusal(request, exc)
    else:
        messages.success(request, f"{deployment}: now {deployment.get_status_display().lower()}.")
    return redirect("registry:deployment-detail", pk)
