"""The evidence of a deployment dossier: the deployment, its model and lineage, reviews, evaluations, trail."""

from __future__ import annotations

from collections import Counter
from typing import Any

from audits.selectors import events_for_objects
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.evidence.dossier import dossier_attachments
from fmgov.findings.selectors import findings_about
from fmgov.registry.models import Adaptation, AdaptationParent, Deployment, FoundationModel
from fmgov.registry.selectors import adaptation_ancestors, adaptation_descendant_ids
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import RiskReview
from reports.models import Report
from reports.selectors.common import (
    chain_verification,
    day,
    event_row,
    evidence_header,
    finding_row,
    metric_uncertainty,
    threshold_parts,
    ts,
    user_name,
)
from reports.selectors.incident import overdue_flags_for_deployment

__all__ = ["dossier_evidence"]


def dossier_evidence(report: Report) -> dict[str, Any]:
    deployment = Deployment.objects.select_related(
        "owner", "foundation_model__owner", "adaptation__owner", "endpoint_credential"
    ).get(pk=report.deployment_id)
    evidence = evidence_header(report)
    target = deployment.target
    lineage, lineage_objects = _lineage(deployment)
    reviews, review_objects = _reviews_section(deployment)
    evaluations, findings, evaluation_objects = _evaluations_section(deployment)
    attachments, attachment_objects = dossier_attachments(deployment)
    objects = (
        [("registry.deployment", str(deployment.pk))]
        + lineage_objects
        + review_objects
        + evaluation_objects
        + attachment_objects
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
                # The credential's registered name, never its value (no report could hold it anyway).
                "endpoint_credential": deployment.endpoint_credential.name if deployment.endpoint_credential else "",
                "legacy_credential_name": deployment.legacy_credential_name,
                "owner": user_name(deployment.owner),
                "created_at": ts(deployment.created_at),
                "went_live_at": ts(deployment.went_live_at),
            },
            "overdue_incidents": overdue_flags_for_deployment(deployment),
            "target": _model_facts(target) if isinstance(target, FoundationModel) else _adaptation_facts(target),
            "lineage": lineage,
            "reviews": reviews,
            "evaluations": evaluations,
            "findings": findings,
            "attachments": attachments,
            "audit_trail": {
                "objects": [list(o) for o in sorted(set(objects))],
                "events": [event_row(e) for e in events.iterator(chunk_size=2000)],
                "verification": chain_verification(),
            },
        }
    )
    return evidence


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
        "release_date": day(m.release_date),
        "hf_repo_id": m.hf_repo_id,
        "intended_uses": m.intended_uses,
        "out_of_scope_uses": m.out_of_scope_uses,
        "training_data_summary": m.training_data_summary,
        "training_compute_flop": m.training_compute_flop,
        "training_energy_kwh": m.training_energy_kwh,
        "training_emissions_tco2e": m.training_emissions_tco2e,
        "model_card": m.model_card,
        "model_card_metadata": m.model_card_metadata,
        "owner": user_name(m.owner),
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
        "owner": user_name(a.owner),
    }


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


def _reviews_section(deployment: Deployment) -> tuple[dict[str, Any], list[tuple[str, str]]]:
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
            sign_offs.append({"id": s.pk, "reviewer": user_name(s.reviewer), "decision": s.decision,
                              "submission": s.submission, "time": ts(s.created_at), "comment": s.comment,
                              "conditions": s.conditions, "content_hash": s.content_hash, "void": s.void,
                              "voided_at": ts(s.voided_at), "void_reason": s.void_reason})  # fmt: skip
        out.append({"id": r.pk, "title": str(r), "state": r.state, "policy": r.policy.name,
                    "quorum": r.policy.quorum, "submission": r.submission, "content_hash": r.content_hash,
                    "target_digest": r.target_digest, "created_by": user_name(r.created_by),
                    "submitted_by": user_name(r.submitted_by), "submitted_at": ts(r.submitted_at),
                    "decided_at": ts(r.decided_at), "approved_at": ts(r.approved_at),
                    "expires_at": ts(r.expires_at), "revoked_at": ts(r.revoked_at),
                    "revoked_reason": r.revoked_reason, "summary": r.summary, "items": items,
                    "sign_offs": sign_offs})  # fmt: skip
    approved = [r for r in out if r["state"] == ReviewState.APPROVED]
    register = (approved or out)[-1] if out else None
    return {
        "reviews": out,
        "register_review_id": register["id"] if register else None,
    }, objects


def _evaluations_section(deployment: Deployment) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    runs = list(
        EvaluationRun.objects.filter(deployment=deployment)
        .select_related("suite")
        .order_by("finished_at", "created_at", "id")
    )
    metrics = RunMetric.objects.filter(run__deployment=deployment).order_by("run__finished_at", "run_id", "name")
    series: dict[tuple[str, str], dict[str, Any]] = {}
    by_run = {run.pk: run for run in runs}
    for m in metrics:
        run = by_run.get(m.run_id)
        if run is None or run.finished_at is None:
            continue
        key = (run.suite.name, m.name)
        op, limit = threshold_parts(m.threshold)
        s = series.setdefault(key, {"suite": run.suite.name, "metric": m.name, "points": []})
        s["points"].append({"run": run.pk, "time": ts(run.finished_at), "value": m.value, "threshold": limit,
                            "op": op, "passed": m.passed, **metric_uncertainty(m)})  # fmt: skip
    evaluations = {
        "runs": [
            {
                "id": r.pk,
                "suite": r.suite.name,
                "evaluator": r.evaluator,
                "state": r.state,
                "passed": r.passed,
                "started_at": ts(r.started_at),
                "finished_at": ts(r.finished_at),
                "error": r.error[:300],
            }
            for r in runs
        ],  # fmt: skip
        "series": [series[k] for k in sorted(series)],
    }
    objects = [("evaluations.evaluationrun", str(r.pk)) for r in runs]
    rows = list(findings_about(deployment).order_by("opened_at", "id"))
    findings = {"findings": [finding_row(f) for f in rows]}
    objects += [ref for f in rows for ref in f.audit_objects()]
    return evaluations, findings, objects
