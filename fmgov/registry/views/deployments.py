"""Deployment pages: inventory, detail with reviews and the evaluation panel (through hooks), lifecycle actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fmgov.core.roles import has_role
from fmgov.core.views_util import call_service, role_required
from fmgov.registry import services
from fmgov.registry.choices import DEPLOYMENT_TRANSITIONS, DeploymentStatus
from fmgov.registry.endpoints import deployment_run_blocker
from fmgov.registry.forms import (
    DeploymentFilterForm,
    DeploymentForm,
    TransitionForm,
)
from fmgov.registry.governed import FROZEN_STATUSES, GOVERNED_FIELDS
from fmgov.registry.hooks import deployment_evaluation_panel, deployment_reviews
from fmgov.registry.selectors import (
    deployment_go_live_blocker,
    deployment_list,
    deployment_revision_list,
)
from fmgov.registry.services.revisions import open_revision
from fmgov.registry.views._common import WRITERS, _edit, _inventory, _may_change, _save_form

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
    if deployment.status in FROZEN_STATUSES:  # what the review approved is shown, not offered
        for name in GOVERNED_FIELDS:
            form.fields[name].disabled = True
            form.fields[name].help_text = "Frozen while approved or live: use \u201cPropose a change\u201d."

    def save():
        services.deployment_update(deployment=deployment, actor=request.user, **form.cleaned_data)

    return _edit(request, deployment, form, save, "registry:deployment-detail", f"Edit {deployment}")


@role_required(*WRITERS)
def deployment_revise(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose a change of an approved or live deployment: the form starts from what runs now."""
    deployment = get_object_or_404(deployment_list(), pk=pk)
    if not _may_change(request.user, deployment):
        messages.error(request, "Only the deployment's owner or an admin may propose a change to it.")
        return redirect("registry:deployment-detail", pk)
    form = DeploymentForm(request.POST or None, instance=deployment)
    return _save_form(
        request,
        form,
        lambda: services.deployment_revision_create(deployment=deployment, actor=request.user, **form.cleaned_data),
        saved="Proposed revision {}: it needs its own risk review before it goes live.",
        detail="registry:deployment-detail",
        title=f"Propose a change to {deployment}",
    )


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
    deployment = get_object_or_404(deployment_revision_list().select_related("revises"), pk=pk)
    actions, blocker = _allowed_actions(request.user, deployment)
    frozen = deployment.status in FROZEN_STATUSES
    review_rows = deployment_reviews(deployment)
    open_review = next((r for r in review_rows if r.is_open), None)
    context = {
        "deployment": deployment,
        "actions": actions,
        "blocker": blocker,
        "run_blocker": deployment_run_blocker(deployment),
        "transition_form": TransitionForm(),
        "reviews": review_rows,
        "open_review": open_review,
        "may_change": _may_change(request.user, deployment),
        "frozen": frozen,
        "open_revision": open_revision(deployment) if frozen else None,
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
    return call_service(
        request,
        lambda: service(deployment=deployment, actor=request.user, **kwargs),
        success=lambda done: f"{done}: now {done.get_status_display().lower()}.",
        to=("registry:deployment-detail", pk),
    )
