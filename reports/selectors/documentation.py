"""The evidence of the two documentation exports: one audience's model documentation, and the Annex XII package.

Both read the record through ``documentation_for_audience``, so an export holds exactly the fields the Model
Documentation Form marks for its audience, and ``evidence.json`` carries that view unchanged (timestamps as
text). The frozen version is exported when there is one: a frozen version is what was submitted ("as submitted
on"), and an authority or a downstream provider must receive what was submitted, not a draft being edited
since; the evidence says when a newer draft exists. A record never frozen exports its current version, marked
as a draft.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
from django.utils import timezone

from fmgov.core.roles import Role, has_role
from fmgov.documentation.choices import Audience, Provenance
from fmgov.documentation.models import DocumentationRecord, DocumentationVersion
from fmgov.documentation.selectors import documentation_for_audience
from fmgov.evidence.selectors import documentation_files_as_of
from fmgov.incidents.models import Incident
from fmgov.incidents.selectors import overdue_at
from fmgov.registry.models import Adaptation, FoundationModel
from reports.models import Report
from reports.selectors.common import OVERSIGHT_ROLES, chain_verification, evidence_header, ts, user_name
from reports.selectors.incident import incident_flag_row

__all__ = [
    "ANNEX_XII",
    "documentation_evidence",
    "documentation_record_of",
    "downstream_evidence",
    "may_report_on_documentation",
    "overdue_flags_for_target",
]

#: Regulation (EU) 2024/1689, Annex XII: what the information for downstream providers contains at least.
ANNEX_XII = (
    ("1", "A general description of the general-purpose AI model", [
        ("1(a)", "the tasks that the model is intended to perform and the type and nature of AI systems into "
                 "which it can be integrated"),
        ("1(b)", "the acceptable use policies applicable"),
        ("1(c)", "the date of release and methods of distribution"),
        ("1(d)", "how the model interacts, or can be used to interact, with hardware or software that is not part "
                 "of the model itself, where applicable"),
        ("1(e)", "the versions of relevant software related to the use of the general-purpose AI model, where "
                 "applicable"),
        ("1(f)", "the architecture and number of parameters"),
        ("1(g)", "the modality (e.g. text, image) and format of inputs and outputs"),
        ("1(h)", "the licence for the model"),
    ]),
    ("2", "A description of the elements of the model and of the process for its development", [
        ("2(a)", "the technical means (e.g. instructions for use, infrastructure, tools) required for the "
                 "general-purpose AI model to be integrated into AI systems"),
        ("2(b)", "the modality (e.g. text, image, etc.) and format of the inputs and outputs and their maximum "
                 "size (e.g. context window length, etc.)"),
        ("2(c)", "information on the data used for training, testing and validation, where applicable, including "
                 "the type and provenance of data and curation methodologies"),
    ]),
)  # fmt: skip
_ANNEX_XII_SOURCE = re.compile(r"^Annex XII, points? (.+)$")
_POINT = re.compile(r"\d(?:\([a-h]\))?")


def documentation_record_of(target: FoundationModel | Adaptation) -> DocumentationRecord | None:
    kind = "adaptation" if isinstance(target, Adaptation) else "foundation_model"
    return (
        DocumentationRecord.objects.select_related(
            "current_version", "frozen_version", "foundation_model", "adaptation"
        )
        .filter(**{kind: target})
        .first()
    )


def may_report_on_documentation(user, target: FoundationModel | Adaptation) -> bool:
    """Auditors, reviewers and admins on any record; an engineer on the models and adaptations they own (who
    may edit a record, ``documentation.services.may_edit``, may export it)."""
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and target.owner_id == user.pk


def overdue_flags_for_target(target: FoundationModel | Adaptation) -> list[dict[str, Any]]:
    """Overdue incidents naming the model, a deployment running the target, or (for an adaptation) a foundation
    model it rests on: the documentation's overdue-incident flags (issue 19, every report flags them)."""
    from fmgov.registry.selectors import adaptation_ancestors

    now = timezone.now()
    if isinstance(target, Adaptation):
        ancestors = adaptation_ancestors(adaptation_id=target.pk)
        model_ids = {a["id"] for a in ancestors if a["kind"] == "foundation_model"}
        touching = Q(deployments__adaptation=target) | Q(foundation_models__in=model_ids)
    else:
        touching = Q(deployments__foundation_model=target) | Q(foundation_models=target)
    ids = Incident.objects.filter(touching).values("pk")
    candidates = Incident.objects.filter(pk__in=ids, report_due_at__lt=now).prefetch_related(
        "deployments", "foundation_models"
    )
    overdue = [i for i in candidates.order_by("report_due_at", "pk") if overdue_at(i, now)]
    return [incident_flag_row(i, now) for i in overdue]


def _json_view(view: dict[str, Any]) -> dict[str, Any]:
    """The audience view as JSON: only ``frozen_at`` (a datetime) and ``audience_label`` (lazy text) are not."""
    return {**view, "frozen_at": ts(view["frozen_at"]), "audience_label": str(view["audience_label"])}


def _subject(record: DocumentationRecord) -> dict[str, Any]:
    target = record.target
    is_model = record.foundation_model_id is not None
    return {
        "kind": record.target_kind,
        "id": target.pk,
        "name": target.name,
        "version": target.version,
        "provider": target.provider if is_model else "",
        "adaptation_kind": "" if is_model else str(target.get_kind_display()),
        "digest": target.artifact_digest,
        "hf_repo_id": target.hf_repo_id or "",
        "owner": user_name(target.owner),
    }


def _versions(record: DocumentationRecord) -> list[dict[str, Any]]:
    rows = DocumentationVersion.objects.filter(record=record).select_related("author", "frozen_by").order_by("number")
    return [
        {
            "version": v.number,
            "created_at": ts(v.created_at),
            "author": user_name(v.author),
            "frozen_at": ts(v.frozen_at),
            "frozen_by": user_name(v.frozen_by),
        }
        for v in rows
    ]


def _record_row(record: DocumentationRecord, exported: int) -> dict[str, Any]:
    frozen = record.frozen_version
    return {
        "id": record.pk,
        "exported_version": exported,
        "exported": "frozen" if frozen is not None and frozen.number == exported else "current",
        "current_version": record.current_version.number,
        "frozen_version": frozen.number if frozen else None,
        "frozen_at": ts(frozen.frozen_at) if frozen else None,
        "newer_draft": frozen is not None and record.current_version.number > frozen.number,
        "versions": _versions(record),
    }


def _common(report: Report, audience: str) -> tuple[dict[str, Any], DocumentationRecord]:
    target = report.foundation_model or report.adaptation
    record = documentation_record_of(target)
    if record is None:
        raise ValueError(f"{target} has no documentation record; save its documentation before exporting it.")
    evidence = evidence_header(report)
    audience_view = documentation_for_audience(record, audience, frozen=True)
    view = _json_view(audience_view)
    subject = _subject(record)
    # Evidence files on this audience's fields as the exported version stood: a frozen version's are those uploaded
    # by its freeze (later ones belong to the next draft), each field's latest revision with its digest.
    files = documentation_files_as_of(record.pk, view["field_names"], at=audience_view["frozen_at"])
    evidence["report"]["title"] = f"{report.title}: {subject['name']} {subject['version']}"
    evidence.update(
        {
            "subject": subject,
            "record": _record_row(record, view["version"]),
            "documentation": view,
            "provenance_labels": {value: str(label) for value, label in Provenance.choices},
            "attachments": files,
            "overdue_incidents": overdue_flags_for_target(target),
            # The record's events are left out: their changes name every field of every audience, and this
            # export goes to one audience; the version history above says who saved and froze what, when.
            "audit_trail": {"verification": chain_verification()},
        }
    )
    return evidence, record


def documentation_evidence(report: Report) -> dict[str, Any]:
    """Model documentation for one audience (Art. 53(1)(a), Annex XI; Model Documentation Form)."""
    evidence, _ = _common(report, report.audience)
    return evidence


def annex_xii_points(sources: list[str]) -> list[str]:
    """The Annex XII points a field's sources cite, in order: "Annex XII, points 1(d) and 2(a)" → 1(d), 2(a);
    "Annex XII, point 1" (the model's general description itself, e.g. its name) → 1."""
    points = []
    for source in sources:
        match = _ANNEX_XII_SOURCE.match(source)
        if match:
            points += _POINT.findall(match.group(1))
    return points


def downstream_evidence(report: Report) -> dict[str, Any]:
    """The Annex XII package (Art. 53(1)(b)): the fields for downstream providers, by the Annex point each
    answers first; fields the Annex does not name (identity, authenticity, restricted uses) follow as what the
    Model Documentation Form adds."""
    evidence, _ = _common(report, Audience.DOWNSTREAM_PROVIDERS)
    placed: dict[str, list[str]] = {}
    also: dict[str, list[str]] = {}  # a field citing two points is shown under the first, named under the other
    further = []
    for section in evidence["documentation"]["sections"]:
        for field in section["fields"]:
            points = annex_xii_points(field["sources"])
            if points:
                placed.setdefault(points[0], []).append(field["name"])
                for point in points[1:]:
                    also.setdefault(point, []).append(field["name"])
            else:
                further.append(field["name"])
    evidence["annex_xii"] = [
        {
            "point": number,
            "title": title,
            "fields": placed.get(number, []),
            "items": [
                {"point": key, "text": text, "fields": placed.get(key, []), "also": also.get(key, [])}
                for key, text in items
            ],
        }
        for number, title, items in ANNEX_XII
    ]
    evidence["form_additions"] = further
    return evidence
