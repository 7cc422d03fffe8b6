"""Evidence to HTML: the template context of each report kind, built from the evidence alone.

Runs inside the renderer process (``reports.rendering.child``) with a
stand-alone Django template engine: no database, no settings of the project.
User text goes through ``markup.markdown_to_safe_html``; diagrams and charts
are inline SVG from ``svg``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from audits.changes import ABSENT, change_pairs
from fmgov.core import svg
from reports.choices import ReportKind
from reports.rendering.fetcher import STATIC_SCHEME
from reports.rendering.markup import markdown_to_safe_html

__all__ = ["EVENTS_PER_PART", "build_parts", "page_numbers_html", "template_engine"]

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
_engine = None

# The audit-trail table is laid out in parts of this many events, each by its own WeasyPrint process, in
# parallel; a part begins on a new page. A constant, not the number of CPUs, so that the same evidence gives
# the same pages on every machine.
EVENTS_PER_PART = 1000

DEFINITIONS = [
    ("Audit trail", "The append-only log of every governance change. Each event records sequence number, time, "
     "actor, action, object and before/after values."),
    ("Event hash", "SHA-256 of the previous event's hash followed by the canonical JSON of the event (sorted keys, "
     "no insignificant whitespace, UTF-8). Changing any recorded event changes every later hash."),
    ("Chain head", "The sequence number and hash of the newest event when this report's data was read. Every event "
     "in this report has a sequence number at or below it."),
    ("Chain verification", "A walk of the whole chain from the genesis value that recomputes each hash and checks "
     "the signed checkpoints; it names the first bad sequence number if any."),
    ("Artifact digest", "SHA-256 of a model's or adaptation's weights or manifest (or the provider's model id and "
     "date for API models): the exact version reviewed and deployed."),
    ("Content hash", "SHA-256 of a risk review's canonical content when submitted. A sign-off approves exactly that "
     "content; editing the review voids the sign-off."),
    ("Void sign-off", "A sign-off kept on record but no longer counted, because the review changed after it."),
    ("Likelihood, severity", "Scores from 1 (rare, negligible) to 5 (almost certain, critical). Inherent risk is "
     "before mitigation; residual risk after it. The heat map counts risk items per cell."),
    ("Threshold", "The limit a review board set for an evaluation metric; a run that breaches it opens a finding."),
    ("Finding", "A recorded threshold breach, open until acknowledged and resolved."),
    ("evidence.json", "The file attached to this PDF holding the data behind every table and chart. The PDF is "
     "PDF/A-3b; the attachment can be extracted with any PDF reader."),
]  # fmt: skip


def template_engine():
    global _engine
    if _engine is None:
        from django.template import Engine

        _engine = Engine(dirs=[str(TEMPLATE_DIR)], autoescape=True)
    return _engine


def when(value: str | None) -> str:
    """ISO timestamp to '2026-11-28 02:07 UTC' (seconds kept off for readability; evidence.json keeps all)."""
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if isinstance(parsed, dt.datetime) and len(value) > 10:
        return parsed.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return parsed.strftime("%Y-%m-%d")


def when_short(value: str | None) -> str:
    """For wide tables whose header already says UTC."""
    return when(value).removesuffix(" UTC")


def _number(value: Any) -> str:
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, int | float):
        if abs(value) >= 1e6:
            return f"{value:.3g}"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
    return str(value)


def _changes(changes: Any) -> str:
    pairs = change_pairs(changes)
    parts = [
        f"{key}: {_short(new)}" if old is ABSENT else f"{key}: {_short(old)} → {_short(new)}"
        for key, old, new in pairs[:4]
    ]
    if len(pairs) > 4:
        parts.append(f"… {len(pairs) - 4} more")
    return "; ".join(parts)


def _event_line(event: dict) -> str:
    """One plain sentence per event: in WeasyPrint each table cell and styled span costs layout time, and the
    audit-trail table has thousands of rows, so actor, action, object and changes share one cell."""
    subject = event["object_repr"] or f"{event['object_type']} {event['object_id']}"
    line = f"{event['actor'] or 'system'} · {event['action']} · {subject}"
    changes = _changes(event["changes"])
    line = f"{line} — {changes}" if changes else line
    if altered := event.get("altered_columns"):  # shown as hashed; the database columns were edited since
        line = f"{line} [database columns altered after recording: {', '.join(altered)}]"
    return line


def _short(value: Any, limit: int = 40) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{k}={'∅' if v in (None, '') else v}" for k, v in value.items())
    else:
        text = "∅" if value is None or value == "" else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _heat_map(items: list[dict], likelihood: str, severity: str) -> list[dict]:
    """5×5 grid, severity rows 5→1, likelihood columns 1→5, each cell with its count and band."""
    counts: dict[tuple[int, int], int] = {}
    for item in items:
        key = (item[likelihood], item[severity])
        counts[key] = counts.get(key, 0) + 1
    rows = []
    for s in range(5, 0, -1):
        cells = []
        for lk in range(1, 6):
            score = s * lk
            band = "high" if score >= 15 else "medium" if score >= 8 else "low"
            cells.append({"count": counts.get((lk, s), 0), "band": band})
        rows.append({"severity": s, "cells": cells})
    return rows


def _facts(target: dict) -> list[tuple[str, str]]:
    if target["type"] == "foundation_model":
        keys = [("Provider", "provider"), ("Modality", "modality"), ("Licence", "licence"), ("Access", "access"),
                ("Parameters", "parameter_count"), ("Architecture", "architecture"),
                ("Release date", "release_date"), ("Hugging Face repo", "hf_repo_id"),
                ("Training compute (FLOP)", "training_compute_flop"),
                ("Training energy (kWh)", "training_energy_kwh"),
                ("Training emissions (tCO2e)", "training_emissions_tco2e"), ("Owner", "owner")]  # fmt: skip
    else:
        keys = [("Kind", "kind"), ("Licence", "licence"), ("Hugging Face repo", "hf_repo_id"), ("Owner", "owner")]
    return [(label, _number(target.get(key))) for label, key in keys]


def _lineage_diagram(target: dict, lineage: dict) -> str:
    parents: dict[str, list[str]] = {}
    for edge in lineage["edges"]:
        parents.setdefault(edge["child"], []).append(edge["parent"])
    return svg.lineage_svg(
        [
            svg.DagNode(
                key=n["key"],
                label=f"{n['name']} {n['version']}",
                sublabel=f"{n['detail']} · {n['digest'][:12] or 'no digest'}",
                parents=parents.get(n["key"], []),
                current=n["is_target"],
            )
            for n in lineage["nodes"]
        ],
        title=f"Lineage of {target.get('name', '')}",
        orientation="vertical",
    )


def _review_register(reviews: dict) -> dict | None:
    """Display dates on every review; the register review's items with their scores and heat maps."""
    register = None
    for review in reviews["reviews"]:
        for s in review["sign_offs"]:
            s["time_display"] = when(s["time"])
            s["voided_display"] = when(s["voided_at"])
        for key in ("submitted_at", "decided_at", "approved_at", "expires_at", "revoked_at"):
            review[f"{key}_display"] = when(review[key])
        if review["id"] == reviews.get("register_review_id"):
            register = review
    if register is None:
        return None
    for item in register["items"]:
        item["inherent"] = item["likelihood"] * item["severity"]
        item["residual"] = item["residual_likelihood"] * item["residual_severity"]
    return {
        "review": register,
        "items": register["items"],
        "inherent": _heat_map(register["items"], "likelihood", "severity"),
        "residual": _heat_map(register["items"], "residual_likelihood", "residual_severity"),
    }


def _evaluation_charts(evaluations: dict) -> list[dict]:
    charts = []
    for series in evaluations["series"]:
        points = series["points"]
        latest = points[-1]
        charts.append({
            "suite": series["suite"], "metric": series["metric"], "latest": latest, "count": len(points),
            "latest_time": when(latest["time"]),
            "svg": svg.trend_svg(
                [
                    svg.TrendPoint(
                        dt.datetime.fromisoformat(p["time"]), p["value"], p.get("passed"),
                        ci_low=p.get("ci_low"), ci_high=p.get("ci_high"),
                    )
                    for p in points
                ],
                title=f"{series['suite']}: {series['metric']}", threshold=latest["threshold"],
                op=latest.get("op"), width=680, height=170,
            ),
        })  # fmt: skip
    for run in evaluations["runs"]:
        run["finished_display"] = when(run["finished_at"])
    return charts


def _dossier_context(ev: dict, events_per_part: int) -> dict[str, Any]:
    target = ev["target"]
    lineage = ev["lineage"]
    diagram = _lineage_diagram(target, lineage)
    reviews = ev["reviews"]
    register = _review_register(reviews)
    evaluations = ev["evaluations"]
    charts = _evaluation_charts(evaluations)
    findings = ev["findings"]
    for f in findings["findings"]:
        f["opened_display"] = when(f["opened_at"])
    trail = ev["audit_trail"]
    events = [(e["seq"], when_short(e["timestamp"]), _event_line(e), e["hash"][:16]) for e in trail["events"]]
    return {
        "target": target,
        "facts": _facts(target),
        "model_card_html": markdown_to_safe_html(target.get("model_card", "")),
        "lineage_svg": diagram,
        "lineage": lineage,
        "reviews": reviews,
        "register": register,
        "evaluations": evaluations,
        "charts": charts,
        "findings": findings,
        "event_count": len(events),
        "events": events[:events_per_part],
        "continued_events": events[events_per_part:],
        "verification": trail["verification"],
        "definitions": DEFINITIONS,
        "subject_line": f"{ev['deployment']['name']} ({ev['deployment']['environment']})",
        "deployment_created": when(ev["deployment"]["created_at"]),
        "deployment_went_live": when(ev["deployment"]["went_live_at"]),
        "overdue_incidents": _overdue_flags(ev),
        "overdue_scope": "Serious incidents naming this deployment or a model it rests on.",
    }


def _period_context(ev: dict) -> dict[str, Any]:
    activity = ev["activity"]
    for key in ("new_models", "new_adaptations"):
        for row in ev[key]:
            row["created_display"] = when(row["created_at"])
    for row in ev["went_live"]:
        row["went_live_display"] = when(row["went_live_at"])
    changes = [
        (e["seq"], when_short(e["timestamp"]), e["actor"], e["action"], e["object_repr"], _changes(e["changes"]))
        for e in ev["deployment_status_changes"]
    ]
    reviews = ev["reviews"]
    for group in ("decided", "expired", "revoked"):
        for row in reviews[group]:
            for key in ("decided_at", "expires_at", "revoked_at"):
                row[f"{key}_display"] = when(row[key])
    findings = ev["findings"]
    for f in findings["findings"]:
        f["opened_display"] = when(f["opened_at"])
    portfolio = ev["portfolio"]
    training = portfolio["footprint"]["training"]
    training["energy_reported"] = any(m["energy_kwh"] is not None for m in training["models"])
    training["emissions_reported"] = any(m["emissions_tco2e"] is not None for m in training["models"])
    provider_svg = svg.bar_chart_svg(
        [(p["provider"], round(p["share"] * 100, 2)) for p in portfolio["concentration"]["providers"][:12]],
        height=150,
        label="share of live deployments per provider (%)",
    )
    counts = [
        ("Foundation models registered", len(ev["new_models"])),
        ("Adaptations registered", len(ev["new_adaptations"])),
        ("Deployments gone live", len(ev["went_live"])),
        ("Reviews decided", len(reviews["decided"])),
        ("Approvals expired", len(reviews["expired"])),
        ("Approvals revoked", len(reviews["revoked"])),
        ("Findings opened", len(findings["findings"])),
        ("Audit events recorded", activity["events_in_period"]),
    ]
    return {
        "counts": counts,
        "activity_svg": svg.bar_chart_svg([(d[5:], n) for d, n in activity["per_day"]], label="audit events per day"),
        "summary_svg": svg.bar_chart_svg(
            [(short, n) for short, (_, n) in zip(SHORT_COUNT_LABELS, counts[:7], strict=True)], height=150
        ),
        "status_changes": changes,
        "portfolio": portfolio,
        "provider_svg": provider_svg,
        "reviews": reviews,
        "findings": findings,
        "verification": ev["audit_trail"]["verification"],
        "definitions": DEFINITIONS,
        "subject_line": f"{ev['period']['start']} to {ev['period']['end']}",
        "overdue_incidents": _overdue_flags(ev),
        "overdue_scope": "Serious incidents, anywhere in the registry, that were overdue at some time in the period.",
    }


SHORT_COUNT_LABELS = ["Models", "Adaptations", "Gone live", "Decided", "Expired", "Revoked", "Findings"]


def _overdue_flags(ev: dict) -> list[dict[str, Any]]:
    """Every report kind flags overdue serious incidents (issue 19); the rows come with the evidence."""
    from reports.rendering.incident import overdue_flags

    return overdue_flags(ev.get("overdue_incidents"))


def _render(template: str, context: dict[str, Any]) -> str:
    from django.template import Context

    return template_engine().get_template(template).render(Context(context, autoescape=True))


def build_parts(kind: str, evidence: dict[str, Any], events_per_part: int = EVENTS_PER_PART) -> list[str]:
    """The report as HTML documents to lay out side by side: the report itself, then (for a long audit trail)
    continuations of its table, each starting on a new page. Page numbers are stamped on afterwards
    (``page_numbers_html``), because no part knows how many pages come before it."""
    if kind == ReportKind.DEPLOYMENT_DOSSIER:
        context, template = _dossier_context(evidence, events_per_part), "reports/deployment_dossier.html"
    elif kind == ReportKind.PERIOD_SUMMARY:
        context, template = _period_context(evidence), "reports/period_summary.html"
    elif kind == ReportKind.INCIDENT_REPORT:
        from reports.rendering.incident import incident_context

        context, template = incident_context(evidence), "reports/incident_report.html"
    elif kind == ReportKind.MODEL_DOCUMENTATION:
        from reports.rendering.documentation import documentation_context

        context, template = documentation_context(evidence), "reports/model_documentation.html"
    elif kind == ReportKind.DOWNSTREAM_INFORMATION:
        from reports.rendering.documentation import downstream_context

        context, template = downstream_context(evidence), "reports/downstream_information.html"
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    head = evidence["audit_head"]
    context.update(
        {
            "ev": evidence,
            "kind": kind,
            "title": evidence["report"]["title"],
            "generated": when(evidence["report"]["generated_at"]),
            "requested_by": evidence["report"]["requested_by"],
            "head": head,
            "stylesheet": f"{STATIC_SCHEME}reports/report.css",
        }
    )
    parts = [_render(template, context)]
    continued = context.pop("continued_events", [])
    total = context.get("event_count", 0)
    for start in range(0, len(continued), events_per_part):
        chunk = continued[start : start + events_per_part]
        first = events_per_part + start + 1
        context.update(
            {"events": chunk, "first": f"{first:,}", "last": f"{first + len(chunk) - 1:,}", "total": f"{total:,}"}
        )
        parts.append(_render("reports/audit_trail_continued.html", context))
    return parts


def page_numbers_html(pages: int) -> str:
    """A document of ``pages`` empty pages with only "Page X of Y" in the footer, laid over the assembled
    report page by page; the same page geometry as report.css."""
    return _render(
        "reports/page_numbers.html", {"pages": range(pages), "stylesheet": f"{STATIC_SCHEME}reports/page-numbers.css"}
    )
