"""Deleting records past their retention period: an admin's audited action that never touches what an approval binds.

``purge_expired`` deletes, for one record class, the rows older than the class's period (``RETENTION_DAYS_*``,
at least 183 days: EU AI Act Art. 26(6)), except:

- runs: those cited as evidence on any risk review (their ids are in the review's content hash, and the citation
  protects them), those an unresolved finding was opened on, and every run of a deployment that is approved or
  live (its dossier shows them);
- reports: every report on a deployment that is approved or live (its dossier), and on an incident not closed;
- attachments: those of reviews that are submitted or approved (their digests are in what the sign-offs bind), of
  any review of an approved or live deployment and of incidents not closed or involving one (the dossier embeds
  them), of documentation fields up to their record's submission (the frozen version's exports list them), and a
  revision that a kept revision supersedes (a kept record is never changed to let another go).

One audit event per purge (``retention.purge``) records the class, the period, the cut-off, the counts and the ids
deleted. The audit trail is no record class: it is never deleted, and the events of deleted rows stay in it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from audits.base import bulk_writes_recorded
from audits.services import audit_record
from fmgov.core.actors import Actor
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.core.roles import Role, has_role
from fmgov.retention.conf import ATTACHMENTS, MINIMUM_DAYS, RECORD_CLASSES, REPORTS, RUNS, SETTING_OF, retention_days

__all__ = ["purge_expired", "purge_candidates"]

_APPROVED = ("approved", "live")  # DeploymentStatus whose approval is current


def _runs(cutoff: dt.datetime) -> tuple[QuerySet, QuerySet]:
    from fmgov.evaluations.choices import RUN_FINAL_STATES
    from fmgov.evaluations.models import EvaluationRun, EvidenceLink

    old = EvaluationRun.objects.filter(state__in=RUN_FINAL_STATES).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    from fmgov.findings.choices import FindingState
    from fmgov.findings.models import Finding

    cited = EvidenceLink.objects.filter(run__isnull=False).values("run_id")
    unresolved = Finding.objects.exclude(state=FindingState.RESOLVED).filter(detail__run__isnull=False)
    breached = {run for run in unresolved.values_list("detail__run", flat=True) if isinstance(run, int)}
    bound = Q(pk__in=cited) | Q(pk__in=breached) | Q(deployment__status__in=_APPROVED)
    return old.exclude(bound), old.filter(bound)


def _reports(cutoff: dt.datetime) -> tuple[QuerySet, QuerySet]:
    from fmgov.incidents.choices import IncidentStatus
    from reports.choices import ReportState
    from reports.models import Report

    old = Report.objects.filter(state__in=(ReportState.SUCCEEDED, ReportState.FAILED), created_at__lt=cutoff)
    bound = Q(deployment__status__in=_APPROVED) | (
        Q(incident__isnull=False) & ~Q(incident__status=IncidentStatus.CLOSED)
    )
    return old.exclude(bound), old.filter(bound)


def _attachments(cutoff: dt.datetime) -> tuple[QuerySet, QuerySet]:
    from fmgov.evidence.models import Attachment
    from fmgov.incidents.choices import IncidentStatus

    old = Attachment.objects.filter(created_at__lt=cutoff)
    bound = (
        Q(review__state__in=("submitted", "approved"))
        | Q(review__deployment__status__in=_APPROVED)
        | (Q(incident__isnull=False) & ~Q(incident__status=IncidentStatus.CLOSED))
        | Q(incident__deployments__status__in=_APPROVED)
        # A documentation field's files up to the record's submission: the frozen version's exports show them.
        | Q(documentation_record__frozen_version__frozen_at__gte=F("created_at"))
    )
    kept_ids = set(old.filter(bound).values_list("pk", flat=True))
    rows = dict(old.values_list("pk", "superseded_by"))  # reverse one-to-one: the newer revision, or None
    newer_kept = set(Attachment.objects.filter(created_at__gte=cutoff).values_list("pk", flat=True))
    changed = True
    while changed:  # a revision stays while a revision superseding it stays
        changed = False
        for pk, successor in rows.items():
            if pk not in kept_ids and successor is not None and (successor in kept_ids or successor in newer_kept):
                kept_ids.add(pk)
                changed = True
    return old.exclude(pk__in=kept_ids), old.filter(pk__in=kept_ids)


_SELECT = {RUNS: _runs, REPORTS: _reports, ATTACHMENTS: _attachments}


def _cutoff(record_class: str, now: dt.datetime) -> tuple[int, dt.datetime]:
    if record_class not in RECORD_CLASSES:
        raise InvalidInput(
            "Unknown record class.", field_errors={"record_class": [f"One of {', '.join(RECORD_CLASSES)}."]}
        )
    days = retention_days(record_class)
    if days < MINIMUM_DAYS:  # the system check refuses this at start-up; a purge never runs on it either
        raise InvalidInput(
            f"{SETTING_OF[record_class]}={days} is below the {MINIMUM_DAYS} days EU AI Act Art. 26(6) requires.",
            field_errors={"record_class": [f"{SETTING_OF[record_class]} is below {MINIMUM_DAYS} days."]},
        )
    return days, now - dt.timedelta(days=days)


def purge_candidates(record_class: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """What a purge would delete and keep now (a dry run, for the command and the API's preview)."""
    days, cutoff = _cutoff(record_class, now or timezone.now())
    expired, bound = _SELECT[record_class](cutoff)
    return {
        "record_class": record_class,
        "retention_days": days,
        "cutoff": cutoff,
        "expired": sorted(expired.values_list("pk", flat=True)),
        "kept_bound": sorted(bound.values_list("pk", flat=True).distinct()),
    }


def _delete_files(names: set[str], still_used: set[str]) -> None:
    for name in sorted(names - still_used):
        default_storage.delete(name)


@transaction.atomic
def purge_expired(*, record_class: str, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
    """Delete the class's rows past their period, except those an approval binds; one audit event with counts."""
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed("Only admins delete records past their retention period.")
    now = now or timezone.now()
    days, cutoff = _cutoff(record_class, now)
    expired, bound = _SELECT[record_class](cutoff)
    expired = expired.select_for_update(of=("self",)) if record_class != ATTACHMENTS else expired
    ids = sorted(set(expired.values_list("pk", flat=True)))
    kept = bound.values_list("pk", flat=True).distinct().count()
    model = expired.model
    files: set[str] = set()
    with bulk_writes_recorded():
        if record_class == ATTACHMENTS:
            # Newest first: a revision's successor is gone before it, so no kept row ever points at a deleted one.
            for attachment in model.objects.filter(pk__in=ids).order_by("-revision", "-created_at", "-pk"):
                files.add(attachment.file.name)
                attachment.delete()
        else:
            if record_class == REPORTS:
                files = {name for name in model.objects.filter(pk__in=ids).values_list("file", flat=True) if name}
            model.objects.filter(pk__in=ids).delete()
    audit_record(
        action="retention.purge",
        actor=actor,
        object_type=f"retention.{record_class}",
        object_id=record_class,
        object_repr=f"{record_class} older than {days} days",
        context={
            "record_class": record_class,
            "model": model._meta.label_lower,
            "retention_days": days,
            "cutoff": cutoff,
            "deleted": len(ids),
            "kept_bound": kept,
            "deleted_ids": ids,
        },
    )
    if record_class == ATTACHMENTS:
        # Each file is checked again when it is deleted, under the lock an upload reusing it takes (an upload of the
        # same bytes may name it after this transaction's snapshot).
        from fmgov.evidence.services import stored_file_release

        transaction.on_commit(lambda: [stored_file_release(name) for name in sorted(files)])
    else:
        transaction.on_commit(lambda: _delete_files(files, set()))
    return {"record_class": record_class, "retention_days": days, "cutoff": cutoff, "deleted": len(ids),
            "kept_bound": kept, "deleted_ids": ids}  # fmt: skip
