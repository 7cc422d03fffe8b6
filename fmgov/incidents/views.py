"""Incident pages: the list, "Report a serious incident", and one incident with its legal clock and status actions.

Thin: every role reads (as the API); writes go to ``fmgov.incidents.services``, which decide who may open on
which deployments, who may confirm (suspend) and which transitions exist; their refusals show on the fields.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.core.views import paginate
from fmgov.core.views_util import call_service, role_required
from fmgov.incidents import services
from fmgov.incidents.choices import INCIDENT_TRANSITIONS, IncidentStatus
from fmgov.incidents.forms import IncidentFollowUpForm, IncidentOpenForm, IncidentReportForm
from fmgov.incidents.selectors import affected_deployments, clock_of, incident_list

__all__ = ["incident_list_view", "incident_create", "incident_detail", "incident_action"]

READERS = tuple(Role.values)
WRITERS = (Role.ENGINEER, Role.REVIEWER, Role.ADMIN)


@role_required(*READERS)
def incident_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    incidents = incident_list().order_by("-aware_at", "-id")
    if status in IncidentStatus.values:
        incidents = incidents.filter(status=status)
    page = paginate(request, incidents)
    return render(
        request,
        "incidents/incident_list.html",
        {
            "page": page,
            "clocks": [clock_of(incident) for incident in page],
            "statuses": IncidentStatus.choices,
            "status": status,
            "may_open": has_role(request.user, *WRITERS),
        },
    )


def _open(request: HttpRequest, form: IncidentOpenForm):
    """The service's ownership refusal is about the deployments the engineer named: shown on that field."""
    try:
        return services.incident_open(actor=request.user, **form.cleaned_data)
    except NotAllowed as exc:
        raise InvalidInput(exc.message, field_errors={"deployments": [exc.message]}) from exc


@role_required(*WRITERS)
def incident_create(request: HttpRequest) -> HttpResponse:
    form = IncidentOpenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            lambda: _open(request, form),
            success=lambda incident: (
                f"Opened incident #{incident.pk}: report due {incident.report_due_at:%Y-%m-%d %H:%M} UTC."
            ),
            to=lambda incident: ("incidents:incident-detail", incident.pk),
            form=form,
        )
        if done is not None:
            return done
    return render(request, "incidents/incident_form.html", {"form": form, "title": "Report a serious incident"})


def _actions(user, incident) -> list[dict]:
    """The status actions this user may take now, as the services allow them."""
    if not services.may_write(user, incident):
        return []
    board = has_role(user, Role.REVIEWER, Role.ADMIN)
    allowed = INCIDENT_TRANSITIONS[incident.status]
    actions = []
    if board and incident.confirmed_at is None and incident.status != IncidentStatus.CLOSED:
        actions.append({"slug": "confirm", "label": "Confirm and suspend what it involves"})
    if IncidentStatus.REPORTED in allowed:
        actions.append({"slug": "report", "label": "Mark reported to the authority", "form": IncidentReportForm()})
    if IncidentStatus.FOLLOW_UP in allowed:
        actions.append({"slug": "follow-up", "label": "Move to follow-up"})
    if IncidentStatus.CLOSED in allowed:
        actions.append({"slug": "close", "label": "Close"})
    return actions


@role_required(*READERS)
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_object_or_404(incident_list(), pk=pk)
    may_write = services.may_write(request.user, incident) and incident.status != IncidentStatus.CLOSED
    context = {
        "incident": incident,
        "clock": clock_of(incident),
        "affected": list(affected_deployments(incident).order_by("name", "pk")[:50]),
        "actions": _actions(request.user, incident),
        "follow_up_form": IncidentFollowUpForm(
            initial={"corrective_measures": incident.corrective_measures, "root_cause": incident.root_cause}
        )
        if may_write
        else None,
    }
    return render(request, "incidents/incident_detail.html", context)


def _report(request: HttpRequest, incident):
    form = IncidentReportForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("Invalid date.", field_errors={"reported_at": form.errors.get("reported_at", [])})
    when = form.cleaned_data["reported_at"]
    return services.incident_report(incident=incident, actor=request.user, **({"reported_at": when} if when else {}))


def _follow_up_fields(request: HttpRequest, incident):
    form = IncidentFollowUpForm(request.POST)
    form.is_valid()
    return services.incident_update(incident=incident, actor=request.user, **form.cleaned_data)


ACTIONS = {
    "confirm": (lambda request, incident: services.incident_confirm(incident=incident, actor=request.user),
                "Confirmed: its deployments are suspended and approvals down the lineage revoked."),
    "report": (_report, "Marked reported: the clock stopped."),
    "follow-up": (lambda request, incident: services.incident_follow_up(incident=incident, actor=request.user),
                  "Moved to follow-up."),
    "close": (lambda request, incident: services.incident_close(incident=incident, actor=request.user), "Closed."),
    "measures": (_follow_up_fields, "Saved the corrective measures and root cause."),
}  # fmt: skip


@require_POST
@role_required(*WRITERS)
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    incident = get_object_or_404(incident_list(), pk=pk)
    if action not in ACTIONS:
        return redirect("incidents:incident-detail", pk)
    call, success = ACTIONS[action]
    return call_service(request, lambda: call(request, incident), success=success, to=("incidents:incident-detail", pk))
