"""Reads for reports: who may see which report, and the evidence behind each report kind.

The evidence is a plain JSON-able dict: the renderer builds every table and
chart from it alone, and it is embedded in the PDF as ``evidence.json``, so a
reader can check each figure against the data it came from. Sections whose
app holds no data model in this installation say so instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from audits.canonical import format_timestamp
from audits.selectors import chain_head, events_for_objects, verify_chain
from fmgov.core.roles import Role, has_role
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.selectors import adaptation_ancestors, adaptation_descendant_ids
from reports.models import Report

__all__ = [
    "report_list_for",
    "may_see_report",
    "may_report_on_deployment",
    "dossier_evidence",
    "period_evidence",
    "EVIDENCE_SCHEMA",
]

EVIDENCE_SCHEMA = "fmgov.report-evidence/1"
MAX_STATUS_ROWS = 2000  # the period summary lists at most this many status changes and says so
OVERSIGHT_ROLES = (Role.AUDITOR, Role.REVIEWER, Role.ADMIN)


# --- who -------------------------------------------------------------------
def may_report_on_deployment(user, deployment: Deployment) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and deployment.owner_id == user.pk


def may_see_report(user, report: Report) -> bool:
    if has_role(user, *OVERSIGHT_ROLES):
        return True
    return has_role(user, Role.ENGINEER) and report.deployment_id is not None and report.deployment.owner_id == user.pk


def report_list_for(user) -> QuerySet[Report]:
    reports = Report.objects.select_related("deployment", "requested_by")
    if has_role(user, *OVERSIGHT_ROLES):
        return reports
    if has_role(user, Role.ENGINEER):
        return reports.filter(deployment__owner=user)
    return reports.none()


# --- helpers -----------------------------------------------------------------
def _ts(value: dt.datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _model_available(label: str):
    """The model class if its app is installed and its table exists here, else None."""
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    if model._meta.db_table not in connection.introspection.table_names():
        return None
    return model


def _unavailable(app: str) -> dict[str, Any]:
    return {
        "available": False,
        "note": f"The {app} app holds no data in this installation yet, so this section has nothing to report.",
    }


def _threshold_parts(threshold: Any) -> tuple[str | None, float | None]:
    if isinstance(threshold, int | float) and not isinstance(threshold, bool):
        return None, float(threshold)
    if isinstance(threshold, dict):
        value = threshold.get("value", threshold.get("threshold"))
        op = threshold.get("op") or threshold.get("operator")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return op, float(value)
    return None, None


def _user(user) -> str:
    return user.username if user else ""


def _event(e) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "timestamp": _ts(e.timestamp),
        "actor": e.actor_username or e.actor_system,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "changes": e.changes,
        "hash": e.hash,
    }


def _verification() -> dict[str, Any]:
    result = verify_chain()
    return {
        "ok": result.ok,
        "length": result.length,
        "head_hash": result.head_hash,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
        "checkpoints_checked": result.checkpoints_checked,
    }


def _model_facts(m: FoundationModel) -> dict[str, Any]:
    return {
        "type": "foundation_model",
        "id": m.pk,
        "name": m.name,
        "version": m.version,
        "digest": m.artifact_digest,
        "provider": m.provider,
        "modality": m.get_modality_display(),
        "licence": m.license,
        "access": m.get_access_display(),
        "parameter_count": m.parameter_count,
        "architecture": m.architecture,
        "release_date": _day(m.release_date),
        "hf_repo_id": m.hf_repo_id,
        "intended_uses": m.intended_uses,
        "out_of_scope_uses": m.out_of_scope_uses,
        "training_data_summary": m.training_data_summary,
        "training_compute_flop": m.training_compute_flop,
        "training_energy_kwh": m.training_energy_kwh,
        "training_emissions_tco2e": m.training_emissions_tco2e,
        "model_card": m.model_card,
        "model_card_metadata": m.model_card_metadata,
        "owner": _user(m.owner),
    }


def _adaptation_facts(a: Adaptation) -> dict[str, Any]:
    return {
        "type": "adaptation",
        "id": a.pk,
        "name": a.name,
        "version": a.version,
        "digest": a.artifact_digest,
        "kind": a.get_kind_display(),
        "purpose": a.purpose,
        "data_summary": a.data_summary,
        "licence": a.license,
        "hf_repo_id": a.hf_repo_id,
        "model_card": a.model_card,
        "model_card_metadata": a.model_card_metadata,
        "owner": _user(a.owner),
    }


# --- lineage ---------------------------------------------------------------------
def _lineage(deployment: Deployment) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Ancestors up to the foundation models and dependants downwards, in a fixed number of queries.

    The registry's recursive queries find the nodes; each is drawn on its longest path from the deployed
    target (layer 0: ancestors negative, dependants positive), so every edge points down the diagram.
    """
    target = deployment.target
    is_model = isinstance(target, FoundationModel)
    target_key = f"model:{target.pk}" if is_model else f"adaptation:{target.pk}"
    up_models: set[int] = {target.pk} if is_model else set()
    up_adaptations: set[int] = set() if is_model else {target.pk}
    if not is_model:
        for ancestor in adaptation_ancestors(adaptation_id=target.pk):
            (up_models if ancestor["kind"] == "foundation_model" else up_adaptations).add(ancestor["id"])
    down = adaptation_descendant_ids(**({"model_id": target.pk} if is_model else {"adaptation_id": target.pk}))

    up_edges, down_edges = [], []
    for edge in AdaptationParent.objects.filter(child_id__in=up_adaptations | down).order_by("pk"):
        parent_key = (
            f"model:{edge.parent_model_id}" if edge.parent_model_id else f"adaptation:{edge.parent_adaptation_id}"
        )
        if edge.child_id in up_adaptations:
            up_edges.append((edge.pk, parent_key, f"adaptation:{edge.child_id}"))
        elif edge.parent_adaptation_id in down or parent_key == target_key:
            down_edges.append((edge.pk, parent_key, f"adaptation:{edge.child_id}"))
        # else: a dependant's other parent, outside this lineage; not drawn.

    layers = {target_key: 0}
    layers.update(_longest_path_layers(target_key, [(c, p) for _, p, c in up_edges], step=-1))
    layers.update(_longest_path_layers(target_key, [(p, c) for _, p, c in down_edges], step=1))

    nodes: dict[str, dict[str, Any]] = {}
    for m in FoundationModel.objects.filter(pk__in=up_models):
        key = f"model:{m.pk}"
        nodes[key] = {"key": key, "type": "foundation_model", "id": m.pk, "name": m.name, "version": m.version,
                      "digest": m.artifact_digest, "detail": m.provider, "layer": layers[key]}  # fmt: skip
    for a in Adaptation.objects.filter(pk__in=up_adaptations | down):
        key = f"adaptation:{a.pk}"
        nodes[key] = {"key": key, "type": "adaptation", "id": a.pk, "name": a.name, "version": a.version,
                      "digest": a.artifact_digest, "detail": a.get_kind_display(), "layer": layers[key]}  # fmt: skip
    # Deployments of the dependants (what a revocation upstream would reach).
    dependants = [
        {
            "id": d.pk,
            "name": d.name,
            "environment": d.get_environment_display(),
            "status": d.get_status_display(),
            "target": str(d.target),
        }  # fmt: skip
        for d in Deployment.objects.filter(adaptation_id__in=down).select_related("adaptation").order_by("pk")
    ]
    for node in nodes.values():
        node["is_target"] = node["key"] == target_key
    edges = sorted({(p, c) for _, p, c in up_edges + down_edges})
    lineage = {
        "nodes": sorted(nodes.values(), key=lambda n: (n["layer"], n["name"], n["version"])),
        "edges": [{"parent": p, "child": c} for p, c in edges],
        "dependant_deployments": dependants,
    }
    objects = [
        ("registry.foundationmodel" if n["type"] == "foundation_model" else "registry.adaptation", str(n["id"]))
        for n in nodes.values()
        if n["layer"] <= 0
    ] + [("registry.adaptationparent", str(pk)) for pk in sorted(pk for pk, _, _ in up_edges + down_edges)]
    return lineage, objects


def _longest_path_layers(start: str, arcs: list[tuple[str, str]], *, step: int) -> dict[str, int]:
    """Layer of every node reachable from ``start`` along ``arcs`` (from, to): ``step`` times its longest
    distance, so a node sits beyond all its predecessors. Kahn's order over the (acyclic) lineage."""
    successors: dict[str, list[str]] = {}
    waiting: Counter[str] = Counter()
    for source, destination in set(arcs):
        successors.setdefault(source, []).append(destination)
        waiting[destination] += 1
    layers, ready = {start: 0}, [start]
    while ready:
        node = ready.pop()
        for successor in successors.get(node, []):
            candidate = layers[node] + step
            layers[successor] = max(layers.get(successor, candidate), candidate, key=abs)
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    del layers[start]
    return layers


# --- reviews, evaluations, findings --------------------------------------------------
def _reviews_section(deployment: Deployment) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    RiskReview = _model_available("reviews.RiskReview")
    if RiskReview is None:
        return _unavailable("reviews"), []
    reviews = list(
        RiskReview.objects.filter(deployment=deployment)
        .select_related("policy", "submitted_by", "created_by")
        .prefetch_related("items__category", "sign_offs__reviewer")
        .order_by("created_at", "id")
    )
    objects: list[tuple[str, str]] = []
    out = []
    for r in reviews:
        objects.append(("reviews.riskreview", str(r.pk)))
        items = []
        for item in r.items.all():
            objects.append(("reviews.reviewitem", str(item.pk)))
            items.append({"id": item.pk, "category": item.category.name, "description": item.description,
                          "likelihood": item.likelihood, "severity": item.severity, "mitigation": item.mitigation,
                          "residual_likelihood": item.residual_likelihood,
                          "residual_severity": item.residual_severity, "evidence": item.evidence})  # fmt: skip
        sign_offs = []
        for s in r.sign_offs.all():
            objects.append(("reviews.signoff", str(s.pk)))
            sign_offs.append({"id": s.pk, "reviewer": _user(s.reviewer), "decision": s.decision,
                              "submission": s.submission, "time": _ts(s.created_at), "comment": s.comment,
                              "conditions": s.conditions, "content_hash": s.content_hash, "void": s.void,
                              "voided_at": _ts(s.voided_at), "void_reason": s.void_reason})  # fmt: skip
        out.append({"id": r.pk, "title": str(r), "state": r.state, "policy": r.policy.name,
                    "quorum": r.policy.quorum, "submission": r.submission, "content_hash": r.content_hash,
                    "target_digest": r.target_digest, "created_by": _user(r.created_by),
                    "submitted_by": _user(r.submitted_by), "submitted_at": _ts(r.submitted_at),
                    "decided_at": _ts(r.decided_at), "approved_at": _ts(r.approved_at),
                    "expires_at": _ts(r.expires_at), "revoked_at": _ts(r.revoked_at),
                    "revoked_reason": r.revoked_reason, "summary": r.summary, "items": items,
                    "sign_offs": sign_offs})  # fmt: skip
    approved = [r for r in out if r["state"] == "approved"]
    register = (approved or out)[-1] if out else None
    return {
        "available": True,
        "reviews": out,
        "register_review_id": register["id"] if register else None,
    }, objects


def _evaluations_section(deployment: Deployment) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    Run = _model_available("evaluations.EvaluationRun")
    Metric = _model_available("evaluations.RunMetric")
    Finding = _model_available("evaluations.Finding")
    if Run is None or Metric is None:
        evaluations = _unavailable("evaluations")
    else:
        runs = list(
            Run.objects.filter(deployment=deployment)
            .select_related("suite")
            .order_by("finished_at", "created_at", "id")
        )
        metrics = Metric.objects.filter(run__deployment=deployment).order_by("run__finished_at", "run_id", "name")
        series: dict[tuple[str, str], dict[str, Any]] = {}
        by_run = {run.pk: run for run in runs}
        for m in metrics:
            run = by_run.get(m.run_id)
            if run is None or run.finished_at is None:
                continue
            key = (run.suite.name, m.name)
            op, limit = _threshold_parts(m.threshold)
            s = series.setdefault(key, {"suite": run.suite.name, "metric": m.name, "points": []})
            s["points"].append({"run": run.pk, "time": _ts(run.finished_at), "value": m.value, "threshold": limit,
                                "op": op, "passed": m.passed})  # fmt: skip
        evaluations = {
            "available": True,
            "runs": [
                {
                    "id": r.pk,
                    "suite": r.suite.name,
                    "evaluator": r.evaluator,
                    "state": r.state,
                    "passed": r.passed,
                    "started_at": _ts(r.started_at),
                    "finished_at": _ts(r.finished_at),
                    "error": r.error[:300],
                }
                for r in runs
            ],  # fmt: skip
            "series": [series[k] for k in sorted(series)],
        }
    objects = [("evaluations.evaluationrun", str(r["id"])) for r in evaluations.get("runs", [])]
    if Finding is None:
        findings = _unavailable("evaluations")
    else:
        rows = Finding.objects.filter(deployment=deployment).select_related("acknowledged_by", "resolved_by")
        findings = {"available": True, "findings": [_finding(f) for f in rows.order_by("created_at", "id")]}
        objects += [("evaluations.finding", str(f["id"])) for f in findings["findings"]]
    return evaluations, findings, objects


def _finding(f) -> dict[str, Any]:
    op, limit = _threshold_parts(f.threshold)
    return {"id": f.pk, "deployment": f.deployment_id,
            "run": f.run_id, "metric": f.metric, "value": f.value, "threshold": f.threshold, "op": op,
            "limit": limit, "severity": f.severity, "status": f.status, "note": f.note, "opened_at": _ts(f.created_at),
            "acknowledged_by": _user(f.acknowledged_by), "acknowledged_at": _ts(f.acknowledged_at),
            "resolved_by": _user(f.resolved_by), "resolved_at": _ts(f.resolved_at)}  # fmt: skip


# --- the two report kinds ----------------------------------------------------------
def _header(report: Report) -> dict[str, Any]:
    seq, head_hash = chain_head()
    return {
        "schema": EVIDENCE_SCHEMA,
        "report": {
            "id": report.pk,
            "kind": report.kind,
            "title": report.title,
            "requested_by": _user(report.requested_by),
            "requested_at": _ts(report.created_at),
            "generated_at": _ts(timezone.now()),
        },
        "audit_head": {"seq": seq, "hash": head_hash},
    }


def dossier_evidence(report: Report) -> dict[str, Any]:
    deployment = Deployment.objects.select_related("owner", "foundation_model__owner", "adaptation__owner").get(
        pk=report.deployment_id
    )
    evidence = _header(report)
    target = deployment.target
    lineage, lineage_objects = _lineage(deployment)
    reviews, review_objects = _reviews_section(deployment)
    evaluations, findings, evaluation_objects = _evaluations_section(deployment)
    objects = (
        [("registry.deployment", str(deployment.pk))]
        + lineage_objects
        + review_objects
        + evaluation_objects
        + [
            ("reports.report", str(pk))
            for pk in Report.objects.filter(deployment=deployment).values_list("pk", flat=True)
        ]
    )
    head_seq = evidence["audit_head"]["seq"]
    events = events_for_objects(sorted(set(objects))).filter(seq__lte=head_seq)
    evidence.update(
        {
            "deployment": {
                "id": deployment.pk,
                "name": deployment.name,
                "environment": deployment.get_environment_display(),
                "status": deployment.status,
                "region": deployment.region,
                "endpoint_adapter": deployment.get_endpoint_adapter_display(),
                "endpoint_base_url": deployment.endpoint_base_url,
                "endpoint_model": deployment.endpoint_model,
                "endpoint_api_key_env": deployment.endpoint_api_key_env,
                "owner": _user(deployment.owner),
                "created_at": _ts(deployment.created_at),
                "went_live_at": _ts(deployment.went_live_at),
            },
            "target": _model_facts(target) if isinstance(target, FoundationModel) else _adaptation_facts(target),
            "lineage": lineage,
            "reviews": reviews,
            "evaluations": evaluations,
            "findings": findings,
            "audit_trail": {
                "objects": [list(o) for o in sorted(set(objects))],
                "events": [_event(e) for e in events.iterator(chunk_size=2000)],
                "verification": _verification(),
            },
        }
    )
    return evidence


def period_evidence(report: Report) -> dict[str, Any]:
    start = dt.datetime.combine(report.period_start, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(report.period_end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    in_period = {"created_at__gte": start, "created_at__lt": end}
    evidence = _header(report)
    head_seq = evidence["audit_head"]["seq"]
    models = FoundationModel.objects.filter(**in_period).select_related("owner").order_by("created_at", "id")
    adaptations = (
        Adaptation.objects.filter(**in_period)
        .select_related("owner")
        .prefetch_related("parent_edges__parent_model", "parent_edges__parent_adaptation")
        .order_by("created_at", "id")
    )
    live = (
        Deployment.objects.filter(went_live_at__gte=start, went_live_at__lt=end)
        .select_related("foundation_model", "adaptation", "owner")
        .order_by("went_live_at", "id")
    )
    from audits.models import AuditEvent

    events = AuditEvent.objects.filter(timestamp__gte=start, timestamp__lt=end, seq__lte=head_seq)
    per_action = Counter()
    per_day = Counter()
    for action, timestamp in events.values_list("action", "timestamp").iterator(chunk_size=5000):
        per_action[action] += 1
        per_day[timestamp.date().isoformat()] += 1
    days = []
    day = report.period_start
    while day <= report.period_end and len(days) < 3700:
        days.append([day.isoformat(), per_day.get(day.isoformat(), 0)])
        day += dt.timedelta(days=1)
    status_events = events.filter(action__startswith="deployment.").exclude(action="deployment.create")
    evidence.update(
        {
            "period": {"start": _day(report.period_start), "end": _day(report.period_end), "end_inclusive": True},
            "new_models": [
                {
                    "id": m.pk,
                    "name": m.name,
                    "version": m.version,
                    "provider": m.provider,
                    "digest": m.artifact_digest,
                    "licence": m.license,
                    "access": m.get_access_display(),
                    "created_at": _ts(m.created_at),
                    "owner": _user(m.owner),
                }
                for m in models  # fmt: skip
            ],
            "new_adaptations": [
                {
                    "id": a.pk,
                    "name": a.name,
                    "version": a.version,
                    "kind": a.get_kind_display(),
                    "digest": a.artifact_digest,
                    "created_at": _ts(a.created_at),
                    "owner": _user(a.owner),
                    "parents": [str(e.parent_model or e.parent_adaptation) for e in a.parent_edges.all()],
                }
                for a in adaptations  # fmt: skip
            ],
            "went_live": [
                {
                    "id": d.pk,
                    "name": d.name,
                    "environment": d.get_environment_display(),
                    "target": str(d.target),
                    "digest": d.target_digest,
                    "status": d.get_status_display(),
                    "went_live_at": _ts(d.went_live_at),
                    "owner": _user(d.owner),
                }
                for d in live  # fmt: skip
            ],
            "deployment_status_changes": [_event(e) for e in status_events.order_by("seq")[:MAX_STATUS_ROWS]],
            "deployment_status_changes_total": status_events.count(),
            "reviews": _period_reviews(start, end),
            "findings": _period_findings(start, end),
            "activity": {
                "events_in_period": sum(per_action.values()),
                "per_action": [[a, n] for a, n in sorted(per_action.items(), key=lambda kv: (-kv[1], kv[0]))],
                "per_day": days,
            },
            "portfolio": _period_portfolio(report.period_start, report.period_end),
            "audit_trail": {"verification": _verification()},
        }
    )
    return evidence


def _period_portfolio(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Concentration of power (as at generation) and the footprint over the period, from the portfolio app."""
    if _model_available("portfolio.PortfolioSettings") is None:
        return _unavailable("portfolio")
    from fmgov.portfolio.selectors import concentration, footprint

    return {
        "available": True,
        "concentration": concentration(),
        "footprint": footprint(period_start=start, period_end=end),
    }


def _period_reviews(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    RiskReview = _model_available("reviews.RiskReview")
    if RiskReview is None:
        return _unavailable("reviews")
    rows = (
        RiskReview.objects.filter(
            Q(decided_at__gte=start, decided_at__lt=end)
            | Q(revoked_at__gte=start, revoked_at__lt=end)
            | Q(state="expired", expires_at__gte=start, expires_at__lt=end)
        )
        .select_related("deployment", "policy")
        .prefetch_related("sign_offs__reviewer")
        .order_by("decided_at", "id")
    )

    def in_period(value):
        return value is not None and start <= value < end

    decided, expired, revoked = [], [], []
    for r in rows:
        row = {"id": r.pk, "title": str(r), "deployment": r.deployment.name, "state": r.state,
               "content_hash": r.content_hash, "decided_at": _ts(r.decided_at), "expires_at": _ts(r.expires_at),
               "revoked_at": _ts(r.revoked_at), "revoked_reason": r.revoked_reason,
               "approvals": sum(1 for s in r.sign_offs.all() if s.decision == "approve" and not s.void)}  # fmt: skip
        if in_period(r.decided_at):
            decided.append(row)
        if r.state == "expired" and in_period(r.expires_at):
            expired.append(row)
        if in_period(r.revoked_at):
            revoked.append(row)
    return {"available": True, "decided": decided, "expired": expired, "revoked": revoked}


def _period_findings(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    Finding = _model_available("evaluations.Finding")
    if Finding is None:
        return _unavailable("evaluations")
    rows = (
        Finding.objects.filter(created_at__gte=start, created_at__lt=end)
        .select_related("deployment", "acknowledged_by", "resolved_by")
        .order_by("created_at", "id")
    )
    findings = []
    for f in rows:
        row = _finding(f)
        row["deployment"] = f.deployment.name
        findings.append(row)
    return {"available": True, "findings": findings}
