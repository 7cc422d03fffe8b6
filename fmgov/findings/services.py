"""Writes on findings: open (idempotent by dedupe key), acknowledge, resolve; each atomic and audited.

Who may act is the same for every source: reviewers and admins acknowledge and
resolve; the owner of the finding's subject (a deployment's or a model's
owner) may acknowledge, since they are the one who must act on it. Resolving
says how, in a note.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.findings.choices import ACTIVE_STATES, FINDING_TRANSITIONS, FindingSource, FindingState, Severity
from fmgov.findings.models import Finding

__all__ = [
    "finding_open",
    "finding_acknowledge",
    "finding_resolve",
    "findings_move_subject",
    "may_acknowledge",
    "may_resolve",
]

TITLE_MAX = Finding._meta.get_field("title").max_length
LABEL_MAX = Finding._meta.get_field("subject_label").max_length


def _check_open_input(source: str, severity: str, title: str, dedupe_key: str) -> None:
    errors: dict[str, list[str]] = {}
    if source not in FindingSource.values:
        errors["source"] = [f"Unknown source; one of {', '.join(FindingSource.values)}."]
    if severity not in Severity.values:
        errors["severity"] = [f"Unknown severity; one of {', '.join(Severity.values)}."]
    if not title.strip():
        errors["title"] = ["Say what was found."]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"At most {TITLE_MAX} characters."]
    if len(dedupe_key) > Finding._meta.get_field("dedupe_key").max_length:
        errors["dedupe_key"] = ["Too long."]
    if errors:
        raise InvalidInput("Invalid finding.", field_errors=errors)


def _active_with_key(dedupe_key: str) -> Finding | None:
    return Finding.objects.filter(dedupe_key=dedupe_key, state__in=ACTIVE_STATES).first()


@transaction.atomic
def finding_open(
    *,
    source: str,
    title: str,
    subject: models.Model | None = None,
    subject_label: str = "",
    severity: str = Severity.HIGH,
    detail: dict[str, Any] | None = None,
    dedupe_key: str = "",
    actor: Actor = None,
    system: str = "",
) -> tuple[Finding, bool]:
    """Open a finding, or return the active one with the same dedupe key: (finding, whether it is new)."""
    _check_open_input(source, severity, title, dedupe_key)
    if dedupe_key:
        existing = _active_with_key(dedupe_key)
        if existing is not None:
            return existing, False
    label = (subject_label or (str(subject) if subject is not None else ""))[:LABEL_MAX]
    try:
        with transaction.atomic():
            finding = Finding.objects.create(
                source=source,
                subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
                subject_id=subject.pk if subject is not None else None,
                subject_label=label,
                severity=severity,
                title=title,
                detail=detail or {},
                dedupe_key=dedupe_key,
            )
    except IntegrityError:  # a concurrent writer opened the same finding first
        existing = _active_with_key(dedupe_key) if dedupe_key else None
        if existing is None:
            raise
        return existing, False
    subject_ref = (
        f"{finding.subject_type.app_label}.{finding.subject_type.model}:{finding.subject_id}"
        if subject is not None
        else ""
    )
    audit_record(
        action="finding.open",
        actor=actor,
        system=system,
        obj=finding,
        changes={
            "source": [None, source],
            "subject": [None, subject_ref],
            "subject_label": [None, label],
            "severity": [None, severity],
            "title": [None, title],
            "detail": [None, finding.detail],
            "dedupe_key": [None, dedupe_key],
        },
    )
    return finding, True


def may_acknowledge(actor: Actor, finding: Finding) -> bool:
    """Reviewers, admins, and the owner of the subject (who has to act on it)."""
    if has_role(actor, Role.REVIEWER, Role.ADMIN):
        return True
    subject = finding.subject if finding.subject_type_id else None
    return actor is not None and subject is not None and getattr(subject, "owner_id", None) == actor.pk


def may_resolve(actor: Actor, finding: Finding) -> bool:
    """Reviewers and admins: resolving closes the matter for the board."""
    return has_role(actor, Role.REVIEWER, Role.ADMIN)


def _locked(finding: Finding) -> Finding:
    return Finding.objects.select_for_update().get(pk=finding.pk)


def _ensure_transition(finding: Finding, to: str) -> None:
    if to not in FINDING_TRANSITIONS[finding.state]:
        raise TransitionNotAllowed(f"A finding that is {finding.state} cannot become {to}.")


def _transition(
    finding: Finding, to: str, *, action: str, actor: Actor, stamp: str, note_field: str, note: str
) -> Finding:
    """Move a locked finding to ``to``, stamping ``<stamp>_by``/``<stamp>_at`` and the note, with its event."""
    _ensure_transition(finding, to)
    before = finding.state
    finding.state = to
    setattr(finding, f"{stamp}_by", actor)
    setattr(finding, f"{stamp}_at", timezone.now())
    setattr(finding, note_field, note)
    finding.save(update_fields=["state", f"{stamp}_by", f"{stamp}_at", note_field, "updated_at"])
    audit_record(action=action, actor=actor, obj=finding, changes={"state": [before, to], note_field: ["", note]})
    return finding


@transaction.atomic
def finding_acknowledge(*, finding: Finding, actor: AbstractBaseUser, note: str = "") -> Finding:
    """Someone has seen it and is on it; the finding stays active until resolved."""
    finding = _locked(finding)
    if not may_acknowledge(actor, finding):
        raise NotAllowed("Only reviewers, admins and the owner of its subject may acknowledge a finding.")
    return _transition(
        finding,
        FindingState.ACKNOWLEDGED,
        action="finding.acknowledge",
        actor=actor,
        stamp="acknowledged",
        note_field="acknowledgement_note",
        note=note,
    )


@transaction.atomic
def finding_resolve(*, finding: Finding, actor: AbstractBaseUser, note: str = "") -> Finding:
    """Close the finding, saying how it was resolved."""
    finding = _locked(finding)
    if not may_resolve(actor, finding):
        raise NotAllowed("Only reviewers and admins may resolve a finding.")
    if not note.strip():
        raise InvalidInput("Say how it was resolved.", field_errors={"note": ["Say how the finding was resolved."]})
    return _transition(
        finding,
        FindingState.RESOLVED,
        action="finding.resolve",
        actor=actor,
        stamp="resolved",
        note_field="resolution_note",
        note=note,
    )


@transaction.atomic
def findings_move_subject(
    *, source: models.Model, target: models.Model, reason: str, actor: Actor = None, system: str = ""
) -> list[int]:
    """Move every active finding about ``source`` to ``target`` (a deployment replaced by its revision).

    Open work follows what runs: a finding still open on a retired deployment
    would be answered by nobody. One event per finding; resolved ones stay.
    """
    subject_type = ContentType.objects.get_for_model(source)
    rows = Finding.objects.select_for_update().filter(
        subject_type=subject_type, subject_id=source.pk, state__in=ACTIVE_STATES
    )
    moved = []
    for finding in rows.order_by("pk"):
        before = (finding.subject_id, finding.subject_label)
        finding.subject_type = ContentType.objects.get_for_model(target)
        finding.subject_id = target.pk
        finding.subject_label = str(target)[:LABEL_MAX]
        finding.save(update_fields=["subject_type", "subject_id", "subject_label", "updated_at"])
        audit_record(
            action="finding.move_subject",
            actor=actor,
            system=system,
            obj=finding,
            changes={"subject_id": [before[0], target.pk], "subject_label": [before[1], finding.subject_label]},
            context={"reason": reason},
        )
        moved.append(finding.pk)
    return moved
