"""Review pages: the list, the risk register with its 5x5 heat map, item editing, submit and sign-off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fmgov.core.roles import Role, has_role
from fmgov.core.views import paginate, sort_headers, sort_queryset
from fmgov.core.views_util import call_service, role_required
from fmgov.registry.selectors import deployment_list
from fmgov.reviews import hooks as review_hooks
from fmgov.reviews import services
from fmgov.reviews.choices import EDITABLE_STATES, SCORE_MAX, ReviewState
from fmgov.reviews.forms import (
    RequestChangesForm,
    ReviewCreateForm,
    ReviewFilterForm,
    ReviewItemForm,
    RevokeForm,
    SignOffForm,
)
from fmgov.reviews.selectors import (
    review_approval_status,
    review_awaiting,
    review_heat_map,
    review_list,
    review_page_list,
)

WRITERS = (Role.ENGINEER, Role.ADMIN)
SORTS = {"id": "id", "state": "state", "deployment": "deployment__name", "submitted": "submitted_at",
         "expires": "expires_at"}  # fmt: skip


@login_required
def review_list_view(request: HttpRequest) -> HttpResponse:
    form = ReviewFilterForm(request.GET or None)
    queryset = review_page_list()  # items and approvals counted in the database
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"]
            queryset = queryset.filter(Q(title__icontains=q) | Q(deployment__name__icontains=q))
        if data["state"]:
            queryset = queryset.filter(state=data["state"])
        if data["awaiting"]:
            queryset = review_awaiting(request.user, queryset)
    queryset, sort = sort_queryset(request, queryset, SORTS, "-id")
    page = paginate(request, queryset)
    return render(
        request,
        "reviews/review_list.html",
        {"form": form, "page": page, "sort": sort, "sorts": sort_headers(request, SORTS, sort)},
    )


@role_required(*WRITERS)
def review_create(request: HttpRequest) -> HttpResponse:
    deployment_id = request.POST.get("deployment") or request.GET.get("deployment")
    if not (deployment_id or "").isdigit():
        raise Http404("Start a review from a deployment's page.")
    deployment = get_object_or_404(deployment_list(), pk=deployment_id)
    form = ReviewCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            lambda: services.review_create(deployment=deployment, actor=request.user, **form.cleaned_data),
            success="Review started. Add a risk item for every category the policy requires.",
            to=lambda review: ("reviews:review-detail", review.pk),
            form=form,
        )
        if done is not None:
            return done
    return render(request, "reviews/review_create.html", {"form": form, "deployment": deployment})


LEVELS = ((4, "low"), (9, "medium"), (15, "high"), (25, "critical"))


def _heat_rows(grid: list[list[int]]) -> list[dict]:
    """Likelihood 5 at the top, severity 1..5 left to right, each cell with its count and score level."""
    rows = []
    for likelihood in range(SCORE_MAX, 0, -1):
        cells = []
        for severity in range(1, SCORE_MAX + 1):
            score = likelihood * severity
            level = next(name for limit, name in LEVELS if score <= limit)
            cells.append({"severity": severity, "count": grid[likelihood - 1][severity - 1], "score": score,
                          "level": level})  # fmt: skip
        rows.append({"likelihood": likelihood, "cells": cells})
    return rows


def _may_author(user, review) -> bool:
    return has_role(user, Role.ADMIN) or (
        has_role(user, Role.ENGINEER) and user.pk in (review.created_by_id, review.deployment.owner_id)
    )


def _review_or_404(pk: int):
    return get_object_or_404(review_list(), pk=pk)


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    items = list(review.items.all())
    heat = review_heat_map(items)
    sign_offs = list(review.sign_offs.all())
    user = request.user
    signed = any(s.reviewer_id == user.pk and s.submission == review.submission for s in sign_offs)
    may_author = _may_author(user, review)
    is_own = user.pk in (review.submitted_by_id, review.deployment.owner_id)
    evidence = review_hooks.review_evidence(review, items)
    context = {
        "review": review,
        "items": items,
        "evidence_runs": evidence,
        "inherent": _heat_rows(heat["inherent"]),
        "residual": _heat_rows(heat["residual"]),
        "sign_offs": sign_offs,
        "status": review_approval_status(review),
        "may_edit": may_author and review.state in EDITABLE_STATES,
        "may_submit": may_author and review.state in (ReviewState.DRAFT, ReviewState.CHANGES_REQUESTED),
        "show_sign_off": has_role(user, Role.REVIEWER) and review.state == ReviewState.SUBMITTED and not signed,
        "is_own": is_own,
        "signed": signed,
        "item_form": ReviewItemForm(),
        "sign_off_form": SignOffForm(),
        "changes_form": RequestChangesForm(prefix="changes"),
        "may_revoke": has_role(user, Role.ADMIN) and review.state == ReviewState.APPROVED,
        "revoke_form": RevokeForm(prefix="revoke"),
    }
    return render(request, "reviews/review_detail.html", context)


@require_POST
@role_required(*WRITERS)
def evidence_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Cite an evaluation run of the deployment on one of the review's items (the evaluations app records it)."""
    review = _review_or_404(pk)
    item = next((i for i in review.items.all() if str(i.pk) == request.POST.get("item")), None)
    run = review_hooks.evidence_run(request.POST.get("run", ""))
    if item is None or run is None:
        messages.error(request, "Choose a risk item and an evaluation run.")
        return redirect("reviews:review-detail", pk)
    return call_service(
        request,
        lambda: review_hooks.evidence_link_create(actor=request.user, review_item=item, run=run),
        success=f"Run #{run.pk} cited as evidence.",
        to=("reviews:review-detail", pk),
    )


@require_POST
@role_required(*WRITERS)
def item_create(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    form = ReviewItemForm(request.POST)
    if form.is_valid():
        done = call_service(
            request,
            lambda: services.review_item_create(review=review, actor=request.user, **form.cleaned_data),
            success="Risk item added.",
            to=("reviews:review-detail", pk),
            form=form,
        )
        if done is not None:
            return done
    return render(request, "reviews/item_form.html", {"form": form, "review": review, "title": "Add a risk item"})


@role_required(*WRITERS)
def item_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    item = next((i for i in review.items.all() if i.pk == item_pk), None)
    if item is None:
        raise Http404("No such item in this review.")
    form = ReviewItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            lambda: services.review_item_update(item=item, actor=request.user, **form.cleaned_data),
            success="Risk item saved.",
            to=("reviews:review-detail", pk),
            form=form,
        )
        if done is not None:
            return done
    return render(request, "reviews/item_form.html", {"form": form, "review": review, "title": "Edit a risk item"})


@require_POST
@role_required(*WRITERS)
def item_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    item = next((i for i in review.items.all() if i.pk == item_pk), None)
    if item is None:
        raise Http404("No such item in this review.")
    return call_service(
        request,
        lambda: services.review_item_delete(item=item, actor=request.user),
        success="Risk item removed.",
        to=("reviews:review-detail", pk),
    )


@require_POST
@role_required(*WRITERS)
def review_submit(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    return call_service(
        request,
        lambda: services.review_submit(review=review, actor=request.user),
        success="Review submitted to the board.",
        to=("reviews:review-detail", pk),
    )


@require_POST
@login_required
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve, reject or abstain.")
        return redirect("reviews:review-detail", pk)
    return call_service(
        request,
        lambda: services.sign_off_create(review=review, actor=request.user, **form.cleaned_data),
        success=lambda recorded: f"Your decision ({recorded.get_decision_display().lower()}) is recorded.",
        to=("reviews:review-detail", pk),
    )


@require_POST
@role_required(Role.ADMIN)
def review_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    form = RevokeForm(request.POST, prefix="revoke")
    if not form.is_valid():
        messages.error(request, "Say why the approval is revoked.")
        return redirect("reviews:review-detail", pk)
    return call_service(
        request,
        lambda: services.review_revoke(review=review, actor=request.user, reason=form.cleaned_data["reason"]),
        success="Approval revoked; the deployment's approval is withdrawn.",
        to=("reviews:review-detail", pk),
    )


@require_POST
@login_required
def request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    review = _review_or_404(pk)
    form = RequestChangesForm(request.POST, prefix="changes")
    if not form.is_valid():
        messages.error(request, "Say what must change.")
        return redirect("reviews:review-detail", pk)
    return call_service(
        request,
        lambda: services.review_request_changes(
            review=review, actor=request.user, comment=form.cleaned_data["comment"]
        ),
        success="Changes requested; the author has been notified.",
        to=("reviews:review-detail", pk),
    )
