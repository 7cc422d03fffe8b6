"""Evaluation pages: suites and schedules (create, enable, run now), and a run page with a live progress bar."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from fmgov.core.roles import Role, has_role
from fmgov.core.views import paginate
from fmgov.core.views_util import call_service, role_required
from fmgov.evaluations import services
from fmgov.evaluations.choices import RUN_FINAL_STATES
from fmgov.evaluations.forms import FindingNoteForm, RunNowForm, ScheduleForm, SuiteForm
from fmgov.evaluations.selectors import finding_list, findings_for_run, run_list, schedule_list, suite_list
from fmgov.findings import services as findings_services
from fmgov.findings.choices import ACTIVE_STATES

WRITERS = (Role.ENGINEER, Role.ADMIN)


def _forms(request: HttpRequest, **bound) -> dict:
    return {
        "suite_form": bound.get("suite_form") or SuiteForm(),
        "schedule_form": bound.get("schedule_form") or ScheduleForm(initial=_preset(request), prefix="schedule"),
        "run_form": bound.get("run_form") or RunNowForm(initial=_preset(request), prefix="run"),
    }


def _preset(request: HttpRequest) -> dict:
    return {k: request.GET[k] for k in ("suite", "deployment") if request.GET.get(k, "").isdigit()}


def _index(request: HttpRequest, status: int = 200, **bound) -> HttpResponse:
    context = {
        "suites": suite_list().order_by("name"),
        "schedules": schedule_list().order_by("deployment__name", "suite__name"),
        "runs": paginate(request, run_list().order_by("-created_at", "-id")),
        "findings": finding_list().filter(state__in=ACTIVE_STATES)[:20],
        "may_write": has_role(request.user, *WRITERS),
        **_forms(request, **bound),
    }
    return render(request, "evaluations/index.html", context, status=status)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@require_POST
@role_required(*WRITERS)
def suite_create(request: HttpRequest) -> HttpResponse:
    form = SuiteForm(request.POST)
    if form.is_valid():
        done = call_service(
            request,
            lambda: services.suite_create(actor=request.user, **form.cleaned_data),
            success=lambda suite: f"Suite {suite.name} created.",
            to="evaluations:index",
            form=form,
        )
        if done is not None:
            return done
    return _index(request, suite_form=form)


@require_POST
@role_required(*WRITERS)
def schedule_create(request: HttpRequest) -> HttpResponse:
    form = ScheduleForm(request.POST, prefix="schedule")
    if form.is_valid():
        done = call_service(
            request,
            lambda: services.schedule_create(actor=request.user, **form.cleaned_data),
            success=lambda schedule: f"Scheduled {schedule.suite.name} on {schedule.deployment.name}.",
            to="evaluations:index",
            form=form,
        )
        if done is not None:
            return done
    return _index(request, schedule_form=form)


@require_POST
@role_required(*WRITERS)
def schedule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(schedule_list(), pk=pk)
    return call_service(
        request,
        lambda: services.schedule_update(schedule=schedule, actor=request.user, enabled=not schedule.enabled),
        success=lambda updated: f"Schedule {'enabled' if updated.enabled else 'disabled'}.",
        to="evaluations:index",
    )


@require_POST
@role_required(*WRITERS)
def run_now(request: HttpRequest) -> HttpResponse:
    form = RunNowForm(request.POST, prefix="run")
    if form.is_valid():
        done = call_service(
            request,
            lambda: services.run_request(actor=request.user, **form.cleaned_data),
            success="Run queued; a worker will pick it up.",
            to=lambda run: ("evaluations:run-detail", run.pk),
            form=form,
        )
        if done is not None:
            return done
    return _index(request, run_form=form)


def _run_context(run) -> dict:
    return {"run": run, "final": run.state in RUN_FINAL_STATES, "metrics": list(run.metrics.all())}


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(run_list(), pk=pk)
    context = _run_context(run)
    context["may_cancel"] = not context["final"] and (
        has_role(request.user, Role.ADMIN) or request.user.pk in (run.requested_by_id, run.deployment.owner_id)
    )
    context["findings"] = list(findings_for_run(run))
    return render(request, "evaluations/run_detail.html", context)


@login_required
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment polled while the run is queued or running; it stops polling once final."""
    run = get_object_or_404(run_list(), pk=pk)
    return render(request, "evaluations/_run_progress.html", _run_context(run))


@require_POST
@login_required
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(run_list(), pk=pk)
    return call_service(
        request,
        lambda: services.run_cancel(run=run, actor=request.user),
        success="Run cancelled.",
        to=("evaluations:run-detail", pk),
    )


@require_POST
@login_required
def finding_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    finding = get_object_or_404(finding_list(), pk=pk)
    service = {"acknowledge": findings_services.finding_acknowledge, "resolve": findings_services.finding_resolve}.get(
        action
    )
    if service is None:
        raise Http404("No such action.")
    form = FindingNoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "evaluations:index"
    return call_service(
        request,
        lambda: service(finding=finding, actor=request.user, note=note),
        success=f"Finding {action}d.",
        to=target or "evaluations:index",
    )
