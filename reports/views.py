"""Report pages: request a report, watch its progress (htmx polling), download it, list past reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from fmgov.core.exceptions import DomainError, NotAllowed
from fmgov.core.views import paginate, show_refusal
from fmgov.core.views_util import call_service
from reports.choices import ReportState
from reports.forms import ReportRequestForm
from reports.models import Report
from reports.selectors import may_see_report, report_list_for
from reports.services import report_open_for_download, report_request

FINAL = (ReportState.SUCCEEDED, ReportState.FAILED)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    initial = {"deployment": request.GET["deployment"]} if request.GET.get("deployment", "").isdigit() else {}
    form = ReportRequestForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            lambda: report_request(actor=request.user, **form.cleaned_data),
            success="Report requested; a worker is rendering it.",
            to=lambda report: ("reports:report-detail", report.pk),
            form=form,
        )
        if done is not None:
            return done
    page = paginate(request, report_list_for(request.user).order_by("-created_at", "-id"))
    return render(request, "reports/report_list.html", {"form": form, "page": page})


def _visible_report(request: HttpRequest, pk: int):
    report = get_object_or_404(Report.objects.select_related("deployment", "requested_by"), pk=pk)
    if not may_see_report(request.user, report):
        raise NotAllowed("Engineers may see reports only about their own deployments.")
    return report


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        report = _visible_report(request, pk)
    except DomainError as exc:
        show_refusal(request, exc)
        return redirect("reports:report-list")
    return render(request, "reports/report_detail.html", {"report": report, "final": report.state in FINAL})


@login_required
def report_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment polled while a worker renders; it stops polling once the report is final."""
    try:
        report = _visible_report(request, pk)
    except DomainError as exc:
        return HttpResponse(exc.message, status=403)
    return render(request, "reports/_report_progress.html", {"report": report, "final": report.state in FINAL})


@login_required
def report_download(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        report = _visible_report(request, pk)
        handle = report_open_for_download(actor=request.user, report=report)
    except DomainError as exc:
        show_refusal(request, exc)
        return redirect("reports:report-list")
    response = FileResponse(
        handle, as_attachment=True, filename=report.download_filename, content_type="application/pdf"
    )
    response["X-Content-SHA256"] = report.sha256
    return response
