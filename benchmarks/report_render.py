"""Rendering a large deployment dossier: total wall time against WeasyPrint's own time for the same HTML.

python benchmarks/report_render.py [--events 5000] [--runs 200]

Builds one deployment with a review (sign-offs, one void), ``--runs`` evaluation
runs imported through the evaluations app's services (two metrics each; the
app's own import path, no model endpoint involved) and enough further audit
events on the dossier's objects to make ``--events`` in its audit-trail
section. Then it renders the dossier through ``reports.services.report_render``
(the task's code path: evidence, renderer process whose pool lays the parts
out side by side, assembly, storage, audit event) and, in the same run, times
WeasyPrint alone on the identical final HTML: the same parts and the same
page-number layer, one after another in one fresh process, as anyone would
call it.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import ROOT, benchmark_database, describe_database, emit
from django.db import transaction

BASELINE = """
import sys, time
from pathlib import Path
from weasyprint import HTML, Attachment
from reports.rendering.fetcher import SafeURLFetcher
tmp = Path(sys.argv[1])
documents = sorted(tmp.glob("part-*.html")) + [tmp / "page-numbers.html"]
evidence = (tmp / "evidence.json").read_bytes()
started, cpu, pages = time.perf_counter(), time.process_time(), 0
for index, path in enumerate(documents):
    html = path.read_text(encoding="utf-8")
    document = HTML(string=html, url_fetcher=SafeURLFetcher()).render(pdf_variant="pdf/a-3b")
    attachments = [Attachment(string=evidence, name="evidence.json", relationship="Data")] if index == 0 else []
    document.write_pdf(pdf_variant="pdf/a-3b", attachments=attachments)
    pages += len(document.pages) if path.name != "page-numbers.html" else 0
print(time.perf_counter() - started, time.process_time() - cpu, pages)
"""


def build(events: int, runs: int):
    from audits.models import AuditEvent
    from audits.services import audit_record
    from fmgov.accounts.services import user_create
    from reports.tests.factories import (
        approved_review_with_void_sign_off,
        evaluation_history,
        make_adaptation,
        make_deployment,
        make_model,
    )

    engineer = user_create(username="bench-erin", roles=["engineer"], password="x" * 20)
    reviewers = [user_create(username=f"bench-r{i}", roles=["reviewer"], password="x" * 20) for i in range(2)]
    auditor = user_create(username="bench-aude", roles=["auditor"], password="x" * 20)
    model = make_model(engineer, name="Bench-LM-70B", version="2026.11")
    adaptation = make_adaptation(engineer, [model], name="Bench-support", version="4")
    make_adaptation(engineer, [adaptation], name="Bench-support-rag", kind="rag_application")
    deployment = make_deployment(engineer, adaptation, name="bench-support-bot")
    approved_review_with_void_sign_off(deployment, author=engineer, reviewers=reviewers)
    values = [{"mmlu:acc": 0.70 + (i % 7) * 0.01, "truthfulqa:mc2": 0.5 + (i % 5) * 0.02} for i in range(runs)]
    evaluation_history(deployment, actor=engineer, values=values)
    dossier_types = ["registry.deployment", "registry.adaptation", "registry.foundationmodel", "reviews.riskreview",
                     "reviews.signoff", "reviews.reviewitem", "evaluations.evaluationrun", "evaluations.finding",
                     "registry.adaptationparent"]  # fmt: skip
    existing = AuditEvent.objects.filter(object_type__in=dossier_types).count()
    batch = 500
    for start in range(existing, events, batch):
        with transaction.atomic():
            for i in range(start, min(start + batch, events)):
                audit_record(
                    action="deployment.update",
                    actor=engineer,
                    obj=deployment,
                    changes={"region": [f"eu-west-{i % 3}", f"eu-west-{(i + 1) % 3}"], "note": [None, f"change {i}"]},
                )
    return deployment, auditor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

    with benchmark_database():
        from django.core.files.storage import default_storage

        from reports import services
        from reports.rendering.document import build_parts, page_numbers_html
        from reports.tests import pdfcheck

        deployment, auditor = build(args.events, args.runs)
        services.enqueue_on_commit = lambda task, *a: None  # rendered below, in this process's code path
        report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)

        started, cpu_started = time.perf_counter(), time.process_time()
        report = services.report_render(report_id=report.pk)
        total = time.perf_counter() - started
        # CPU seconds: this process (evidence, storage, audit) plus the renderer process's own.
        total_cpu = time.process_time() - cpu_started + report.render_log["process_cpu_seconds"]
        assert report.state == "succeeded", report.error
        with default_storage.open(report.file.name, "rb") as fh:
            pdf = fh.read()
        evidence = pdfcheck.evidence(pdf)
        shown = len(evidence["audit_trail"]["events"])
        runs = len(evidence["evaluations"]["runs"])

        # WeasyPrint alone on the same final HTML (rebuilt from the embedded evidence; the build is deterministic),
        # in a fresh process with WeasyPrint's defaults, as anyone would call it.
        evidence_json = services.evidence_to_json(evidence)
        parts = build_parts(report.kind, evidence)
        assert sum(len(html.encode()) for html in parts) == report.render_log["html_bytes"], "not the same HTML"
        with tempfile.TemporaryDirectory() as tmp:
            for index, html in enumerate(parts):
                Path(tmp, f"part-{index:03}.html").write_text(html, encoding="utf-8")
            Path(tmp, "page-numbers.html").write_text(page_numbers_html(report.pages), encoding="utf-8")
            Path(tmp, "evidence.json").write_text(evidence_json, encoding="utf-8")
            baseline = subprocess.run(
                [sys.executable, "-c", BASELINE, tmp], capture_output=True, text=True, check=True, cwd=ROOT
            )
        weasyprint, weasyprint_cpu, baseline_pages = (float(x) for x in baseline.stdout.split())
        assert int(baseline_pages) == report.pages

    log = report.render_log
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {describe_database()}; dossier: {shown} audit events, {runs} evaluation runs")
    print(f"pages: {report.pages} in {len(log['parts'])} parts {log['parts']}; PDF size: {report.size / 1024:,.0f} KiB")
    print(f"total wall time (report_render: evidence, HTML, renderer, assembly, storage, audit): {total:.2f} s")
    print(
        f"  of which evidence+store {total - log['process_seconds']:.2f} s, "
        f"renderer process {log['process_seconds']:.2f} s (HTML {log['html_seconds']:.2f} s, "
        f"WeasyPrint in {log['processes']} process(es) {log['weasyprint_seconds']:.2f} s, "
        f"assembly {log['assemble_seconds']:.2f} s)"
    )
    print(
        f"WeasyPrint's own time for the same final HTML (baseline: the same parts and page numbers, "
        f"one after another in one fresh process, defaults): {weasyprint:.2f} s"
    )
    print(f"ratio total/WeasyPrint: {total / weasyprint:.2f} (goal <= 1.2)")
    print(
        f"CPU seconds (steadier on a shared machine): total {total_cpu:.2f}, WeasyPrint {weasyprint_cpu:.2f}, "
        f"ratio {total_cpu / weasyprint_cpu:.2f}, "
        f"per page {total_cpu / report.pages:.3f} total / {weasyprint_cpu / report.pages:.3f} WeasyPrint"
    )
    per_page = f"{total / report.pages:.3f} total, {weasyprint / report.pages:.3f} WeasyPrint"
    print(f"seconds per page: {per_page} (goal < 0.1)")
    print(f"peak memory: largest renderer process {log['peak_rss_mb']:.0f} MB, this process {own_peak:.0f} MB")
    emit("report: total wall time / WeasyPrint alone", total, baseline=weasyprint, goal=1.2, unit="s")
    emit("report: CPU seconds / WeasyPrint alone", total_cpu, baseline=weasyprint_cpu, unit="s")
    emit("report: seconds per page", total / report.pages, goal=0.1, op="<=", unit="s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
