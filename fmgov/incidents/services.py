"""Writes on serious incidents: open, update, confirm, report, follow up, close; each atomic and audited.

Who may do what (design.md's trust model): engineers open incidents on deployments and models they own, and
act on the incidents they opened; reviewers and admins on any; auditors read. Suspending is the board's call:
only a reviewer or admin, opening or confirming an incident, takes its deployments out of service and revokes
the approvals down their lineage — the path a required suite's breach takes — because an engineer's deployment
may sit above other engineers' deployments in the lineage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from audits.changes import created, diff
from audits.services import audit_record, snapshot
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.incidents.choices import INCIDENT_TRANSITIONS, IncidentStatus, Regime
from fmgov.incidents.conf import deadline_for, deadlines
from fmgov.incidents.models import Incident
from fmgov.registry.models import Deployment, FoundationModel

__all__ = [
    "INCIDENT_FIELDS",
    "SYSTEM",
    "incident_open",
    "incident_update",
    "incidents_hand_over",
    "incident_confirm",
    "incident_report",
    "incident_follow_up",
    "incident_close",
    "may_write",
]

#: What a writer may set on an incident after opening it; the clock follows aware_at, regime and category.
INCIDENT_FIELDS = (
    "summary",
    "description",
    "occurred_at",
    "aware_at",
    "regime",
    "harm_category",
    "corrective_measures",
    "root_cause",
)
SYSTEM = "fmgov.incidents"
_AUDITED = (*INCIDENT_FIELDS, "deadline_days", "deadline_source", "report_due_at", "status", "reported_at")
SUMMARY_MAX = Incident._meta.get_field("summary").max_length


def _is_board(actor: Actor) -> bool:
    return has_role(actor, Role.REVIEWER, Role.ADMIN)


def may_write(actor: Actor, incident: Incident) -> bool:
    """Reviewers and admins on any incident; an engineer on the ones they opened."""
    if _is_board(actor):
        return True
    return has_role(actor, Role.ENGINEER) and incident.opened_by_id == actor.pk


def _ensure_writer(actor: Actor, incident: Incident) -> None:
    if not may_write(actor, incident):
        raise NotAllowed("Only reviewers, admins and the engineer who opened it may change this incident.")


def _validate(values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """The rules every state of an incident keeps: times in order and past, a known regime and category."""
    now = timezone.now()
    summary = values.get("summary") or ""
    if not summary.strip():
        errors["summary"] = ["Say what happened, in a line."]
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = [f"At most {SUMMARY_MAX} characters."]
    for name in ("occurred_at", "aware_at"):
        value = values.get(name)
        if not isinstance(value, datetime):
            errors[name] = ["Required: a date and time."]
        elif timezone.is_naive(value):
            errors[name] = ["Give a time zone."]
        elif value > now:
            errors[name] = ["May not be in the future."]
    occurred, aware = values.get("occurred_at"), values.get("aware_at")
    if not ({"occurred_at", "aware_at"} & errors.keys()) and aware < occurred:
        errors["aware_at"] = ["The organisation cannot have become aware before the incident occurred."]
    regime = values.get("regime")
    if regime not in Regime.values:
        errors["regime"] = [f"One of {', '.join(Regime.values)}."]
    elif deadline_for(regime, values.get("harm_category") or "") is None:
        errors["harm_category"] = [f"Under {regime}, one of {', '.join(sorted(deadlines().get(regime, {})))}."]


def _set_clock(incident: Incident) -> None:
    """report_due_at = aware_at + the configured days for the regime and category, with the source cited."""
    deadline = deadline_for(incident.regime, incident.harm_category)
    incident.deadline_days = deadline["days"]
    incident.deadline_source = deadline["source"]
    incident.report_due_at = incident.aware_at + timedelta(days=deadline["days"])


def _ensure_may_open(actor: Actor, deployments: list[Deployment], models: list[FoundationModel]) -> None:
    if _is_board(actor):
        return
    if not has_role(actor, Role.ENGINEER):
        raise NotAllowed("Only engineers, reviewers and admins open incidents.")
    if any(d.owner_id != actor.pk for d in deployments) or any(m.owner_id != actor.pk for m in models):
        raise NotAllowed("Engineers open incidents on their own deployments and models only; ask a reviewer.")


@transaction.atomic
def incident_open(
    *,
    actor: Actor,
    summary: str,
    occurred_at: datetime,
    aware_at: datetime,
    regime: str,
    harm_category: str,
    deployments: Iterable[Deployment] = (),
    foundation_models: Iterable[FoundationModel] = (),
    description: str = "",
    corrective_measures: str = "",
    root_cause: str = "",
    suspend: bool = False,
) -> Incident:
    """Open an incident and start its clock; ``suspend`` (reviewers and admins only) confirms it at once."""
    deployments, foundation_models = list(deployments), list(foundation_models)
    _ensure_may_open(actor, deployments, foundation_models)
    if suspend and not _is_board(actor):
        raise NotAllowed("Only a reviewer or admin may suspend deployments over an incident; ask one to confirm it.")
    values = {
        "summary": summary,
        "description": description,
        "occurred_at": occurred_at,
        "aware_at": aware_at,
        "regime": regime,
        "harm_category": harm_category,
        "corrective_measures": corrective_measures,
        "root_cause": root_cause,
    }
    errors: dict[str, list[str]] = {}
    _validate(values, errors)
    if not deployments and not foundation_models:
        errors["deployments"] = ["Name at least one deployment or model involved."]
    if errors:
        raise InvalidInput("Invalid incident.", field_errors=errors)
    incident = Incident(**values, opened_by=actor)
    incident.summary = summary.strip()
    _set_clock(incident)
    incident.save()
    incident.deployments.set(deployments)
    incident.foundation_models.set(foundation_models)
    changes = created(snapshot(incident, list(_AUDITED)))
    changes["deployments"] = [None, sorted(d.pk for d in deployments)]
    changes["foundation_models"] = [None, sorted(m.pk for m in foundation_models)]
    audit_record(action="incident.open", actor=actor, obj=incident, changes=changes)
    if suspend:
        return incident_confirm(incident=incident, actor=actor)
    return incident


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


@transaction.atomic
def incident_update(*, incident: Incident, actor: Actor, **fields: Any) -> Incident:
    """Change what is known; a new awareness time, regime or category moves the deadline with it."""
    unknown = set(fields) - set(INCIDENT_FIELDS)
    if unknown:
        raise InvalidInput(
            "Unknown fields.", field_errors={name: ["Not a writable field."] for name in sorted(unknown)}
        )
    incident = _locked(incident)
    _ensure_writer(actor, incident)
    if incident.status == IncidentStatus.CLOSED:
        raise TransitionNotAllowed("A closed incident is a record; it is not edited.")
    before = snapshot(incident, list(_AUDITED))
    values = {name: getattr(incident, name) for name in INCIDENT_FIELDS} | fields
    errors: dict[str, list[str]] = {}
    _validate(values, errors)
    if errors:
        raise InvalidInput("Invalid incident.", field_errors=errors)
    for name, value in fields.items():
        setattr(incident, name, value.strip() if name == "summary" else value)
    _set_clock(incident)
    changes = diff(before, snapshot(incident, list(_AUDITED)))
    if not changes:
        return incident
    if "report_due_at" in changes:
        changes.update(_rearm_reminders(incident))
    incident.save()
    audit_record(action="incident.update", actor=actor, obj=incident, changes=changes)
    return incident


def _rearm_reminders(incident: Incident) -> dict[str, list]:
    """A moved deadline moves its reminders: one already sent whose new time is still ahead is sent again then.

    Without this, a category corrected from two days to fifteen would never get its last-day reminder: it went
    out on day one under the old clock.
    """
    from fmgov.incidents.clock import HALF_TIME, LAST_DAY, STAMP, reminder_due_at

    now, rearmed = timezone.now(), {}
    for stage in (HALF_TIME, LAST_DAY):
        sent = getattr(incident, STAMP[stage])
        if sent is not None and reminder_due_at(incident, stage) > now:
            setattr(incident, STAMP[stage], None)
            rearmed[STAMP[stage]] = [sent, None]
    return rearmed


@transaction.atomic
def incident_confirm(*, incident: Incident, actor: Actor) -> Incident:
    """A reviewer or admin confirms: the deployments involved are suspended and approvals revoked down the lineage."""
    if not _is_board(actor):
        raise NotAllowed("Only reviewers and admins confirm an incident and suspend what it involves.")
    incident = _locked(incident)
    if incident.confirmed_at is not None:
        raise TransitionNotAllowed(f"Incident #{incident.pk} was confirmed on {incident.confirmed_at:%Y-%m-%d}.")
    if incident.status == IncidentStatus.CLOSED:
        raise TransitionNotAllowed("A closed incident cannot be confirmed.")
    incident.confirmed_by = actor
    incident.confirmed_at = timezone.now()
    incident.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    from fmgov.incidents.suspension import suspend_involved

    revoked, suspended = suspend_involved(incident)
    audit_record(
        action="incident.confirm",
        actor=actor,
        obj=incident,
        changes={"confirmed_at": [None, incident.confirmed_at]},
        context={"revoked_reviews": revoked, "suspended_deployments": suspended},
    )
    return incident


def _transition(incident: Incident, to: str, *, actor: Actor, action: str, **stamps: Any) -> Incident:
    incident = _locked(incident)
    _ensure_writer(actor, incident)
    if to not in INCIDENT_TRANSITIONS[incident.status]:
        raise TransitionNotAllowed(f"An incident that is {incident.status} cannot become {to}.")
    before = snapshot(incident, ["status", *stamps])
    incident.status = to
    for name, value in stamps.items():
        setattr(incident, name, value)
    incident.save(update_fields=["status", *stamps, "updated_at"])
    audit_record(
        action=action, actor=actor, obj=incident, changes=diff(before, snapshot(incident, ["status", *stamps]))
    )
    return incident


@transaction.atomic
def incident_report(*, incident: Incident, actor: Actor, reported_at: datetime | None = None) -> Incident:
    """Reported to the market surveillance authority (Art. 73) or the AI Office (Art. 55): the clock stops."""
    reported_at = reported_at or timezone.now()
    if timezone.is_naive(reported_at) or reported_at > timezone.now():
        raise InvalidInput("Invalid date.", field_errors={"reported_at": ["A past time with a time zone."]})
    if reported_at < incident.aware_at:
        message = "Reported before the organisation became aware of it?"
        raise InvalidInput(message, field_errors={"reported_at": [message]})
    return _transition(
        incident, IncidentStatus.REPORTED, actor=actor, action="incident.report", reported_at=reported_at
    )


@transaction.atomic
def incident_follow_up(*, incident: Incident, actor: Actor) -> Incident:
    """After the first report, the investigation and corrective action go on (Art. 73(6))."""
    return _transition(incident, IncidentStatus.FOLLOW_UP, actor=actor, action="incident.follow_up")


@transaction.atomic
def incident_close(*, incident: Incident, actor: Actor) -> Incident:
    """Closing needs what the authority will ask for: the root cause and the corrective measures."""
    current = Incident.objects.get(pk=incident.pk)
    errors = {
        name: ["Fill this in before closing."]
        for name in ("root_cause", "corrective_measures")
        if not getattr(current, name).strip()
    }
    if errors and may_write(actor, current) and current.status != IncidentStatus.OPEN:
        raise InvalidInput("Not ready to close.", field_errors=errors)
    return _transition(incident, IncidentStatus.CLOSED, actor=actor, action="incident.close", closed_at=timezone.now())


def incidents_hand_over(*, source: Deployment, target: Deployment, actor: Actor) -> list[int]:
    """A revision's go-live (the registry asks through a hook, inside its transaction) carries the open incidents on.

    The replaced deployment stays named: it is where the incident happened. The revision is added, so the incident
    shows on the deployment that runs now and its clock keeps running there. One event per incident.
    """
    moved = []
    open_incidents = (
        Incident.objects.select_for_update().filter(deployments=source).exclude(status=IncidentStatus.CLOSED)
    )
    for incident in open_incidents.order_by("pk"):
        before = sorted(incident.deployments.values_list("pk", flat=True))
        incident.deployments.add(target)
        audit_record(
            action="incident.add_deployment",
            actor=actor,
            obj=incident,
            changes={"deployments": [before, sorted({*before, target.pk})]},
            context={"reason": f"deployment {source} replaced by its revision {target}"},
        )
        moved.append(incident.pk)
    return moved
