"""Reports rendered by a real Celery worker, read back from the stored PDF."""

import datetime as dt
import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from audits.models import AuditEvent
from audits.selectors import chain_head
from fmgov.core.testing.worker import wait_for
from fmgov.findings.models import Finding
from reports.models import Report
from reports.tests import pdfcheck
from reports.tests.factories import (
    approved_review_with_void_sign_off,
    evaluation_history,
    make_adaptation,
    make_deployment,
    make_model,
    set_status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


def _finished(report_id: int) -> Report:
    def done():
        report = Report.objects.get(pk=report_id)
        return report if report.state in ("succeeded", "failed") else None

    return wait_for(done, timeout=120, message=f"report {report_id} to finish")


def _stored(report: Report) -> bytes:
    with default_storage.open(report.file.name, "rb") as fh:
        return fh.read()


def test_deployment_dossier_through_a_worker(celery_worker, client_for, engineer, reviewer, other_reviewer, auditor):
    base = make_model(engineer, name="Atlas-7B", version="2.1")
    adaptation = make_adaptation(engineer, [base], name="Atlas-support", version="3")
    make_adaptation(engineer, [adaptation], name="Atlas-support-rag", kind="rag_application")
    deployment = make_deployment(engineer, adaptation, name="support-bot")
    review, sign_offs = approved_review_with_void_sign_off(
        deployment, author=engineer, reviewers=[reviewer, other_reviewer]
    )
    values = [{"mmlu:acc": 0.71, "hellaswag:acc_norm": 0.8}, {"mmlu:acc": 0.69, "hellaswag:acc_norm": 0.82}]
    values.append({"mmlu:acc": 0.55, "hellaswag:acc_norm": 0.83})  # breaches >= 0.6: a finding, approval revoked
    suite, runs = evaluation_history(deployment, actor=engineer, values=values)

    response = client_for(auditor).post(
        "/api/v1/reports/", {"kind": "deployment_dossier", "deployment": deployment.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert response.json()["state"] == "queued"
    report = _finished(response.json()["id"])
    assert report.state == "succeeded", report.error

    status = client_for(auditor).get(f"/api/v1/reports/{report.pk}/").json()
    assert status["state"] == "succeeded" and status["progress"] == 100
    assert status["pages"] == report.pages >= 5
    data = _stored(report)
    # The stored sha256 and size are the file's, and the trail recorded the same at completion.
    assert status["sha256"] == hashlib.sha256(data).hexdigest() and status["size"] == len(data)
    completed = AuditEvent.objects.get(action="report.complete", object_id=str(report.pk))
    assert completed.changes["sha256"] == [None, report.sha256]
    assert completed.changes["audit_head_seq"] == [None, report.audit_head_seq]

    text = pdfcheck.text(data)
    flat = pdfcheck.squeezed(data)
    assert "Deployment dossier: support-bot" in text
    assert "Atlas-support" in text and "Atlas-7B 2.1" in text
    assert adaptation.artifact_digest in flat and base.artifact_digest in flat
    # The chain head the report was built from, on the cover.
    head_event = AuditEvent.objects.get(seq=report.audit_head_seq)
    assert head_event.hash == report.audit_head_hash
    assert report.audit_head_hash in flat and f"Audit-trail head sequence {report.audit_head_seq}" in text
    assert "Chain verified" in text
    # Every sign-off with the hash it approved; the void one marked.
    for sign_off in sign_offs:
        assert sign_off.content_hash in flat
    assert "approve·VOID" in flat and sign_offs[0].void
    assert "Re-test monthly." in text
    # Each metric's latest value, its threshold and the finding its breach opened.
    assert "mmlu:acc 0.55 >= 0.6" in text and "hellaswag:acc_norm 0.83" in text
    assert "breach" in text and "finding" in text.lower()
    finding = Finding.objects.get(detail__run=runs[-1].pk)
    assert f"Evaluation finding #{finding.pk}" in text  # the revocation reason on the review
    assert text.count("<svg") == 0 and "threshold >= 0.6" in text  # the chart's threshold line label
    # Page X of Y, table of contents, running header.
    assert f"Page 1 of {report.pages}" in text and f"Page {report.pages} of {report.pages}" in text
    assert "Contents" in text and "9. Audit trail" in text
    assert text.count("Deployment dossier: support-bot") >= report.pages - 1

    evidence = pdfcheck.evidence(data)
    assert (
        hashlib.sha256(json.dumps(evidence, sort_keys=True, ensure_ascii=False, indent=1).encode()).hexdigest()
        == (report.render_log["evidence_sha256"])
    )
    assert evidence["target"]["digest"] == adaptation.artifact_digest
    assert evidence["audit_head"] == {"seq": report.audit_head_seq, "hash": report.audit_head_hash}
    assert {s["content_hash"] for s in evidence["reviews"]["reviews"][0]["sign_offs"]} == {
        s.content_hash for s in sign_offs
    }
    seqs = [e["seq"] for e in evidence["audit_trail"]["events"]]
    assert seqs and max(seqs) <= report.audit_head_seq
    for seq in seqs:
        assert str(seq) in text
    expected = set(
        AuditEvent.objects.filter(
            object_type="reviews.signoff", object_id__in=[str(s.pk) for s in sign_offs]
        ).values_list("seq", flat=True)
    )
    assert expected and expected <= set(seqs)
    assert {e["action"] for e in evidence["audit_trail"]["events"]} >= {"finding.open", "evaluation_run.import"}
    series = {s["metric"]: s["points"] for s in evidence["evaluations"]["series"]}
    assert [p["value"] for p in series["mmlu:acc"]] == [0.71, 0.69, 0.55]
    assert [f["metric"] for f in evidence["findings"]["findings"]] == ["mmlu:acc"]

    meta = pdfcheck.reader(data).metadata
    assert meta.title == "Deployment dossier: support-bot" and meta.author == "fmgov"
    assert "support-bot" in meta.subject and "Atlas-support" in meta.get("/Keywords", "")
    xmp = pdfcheck.xmp(data)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp

    download = client_for(auditor).get(f"/api/v1/reports/{report.pk}/download/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert 'filename="fmgov-dossier-support-bot-report-' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == data
    assert AuditEvent.objects.filter(action="report.download", object_id=str(report.pk), actor=auditor).count() == 1


def test_period_summary_through_a_worker(celery_worker, client_for, engineer, reviewer, other_reviewer, admin_user):
    model = make_model(engineer, name="Period-LM", version="1")
    deployment = make_deployment(engineer, model, name="period-bot")
    approved_review_with_void_sign_off(deployment, author=engineer, reviewers=[reviewer, other_reviewer])
    set_status(deployment, "live", engineer)
    today = dt.date.today()
    response = client_for(admin_user).post(
        "/api/v1/reports/",
        {"kind": "period_summary", "period_start": str(today - dt.timedelta(days=6)), "period_end": str(today)},
        format="json",
    )
    assert response.status_code == 202, response.content
    report = _finished(response.json()["id"])
    assert report.state == "succeeded", report.error
    data = _stored(report)
    assert hashlib.sha256(data).hexdigest() == report.sha256
    text = pdfcheck.text(data)
    flat = pdfcheck.squeezed(data)
    assert "Period summary" in text and "Period-LM" in text and "period-bot" in text
    assert model.artifact_digest in flat
    assert "Launch review" in text  # the decided review
    assert report.audit_head_hash in flat and "Chain verified" in text
    evidence = pdfcheck.evidence(data)
    assert [m["name"] for m in evidence["new_models"]] == ["Period-LM"]
    assert [d["name"] for d in evidence["went_live"]] == ["period-bot"]
    assert [r["state"] for r in evidence["reviews"]["decided"]] == ["approved"]
    # Concentration (one live deployment on one provider) and footprint from the portfolio app.
    concentration = evidence["portfolio"]["concentration"]
    assert concentration["hhi"] == 10000 and concentration["providers"][0]["provider"] == "Example Labs"
    assert "Herfindahl–Hirschman index over provider shares: 10000" in text
    assert "Training energy of models in use 120000 kWh" in text
    assert "Training emissions of models in use not reported by any model in use" in text
    per_action = dict(evidence["activity"]["per_action"])
    assert per_action["report.request"] == 1 and per_action["signoff.approve"] == 3
    assert evidence["activity"]["events_in_period"] == sum(per_action.values()) == report.audit_head_seq


def test_model_card_urls_are_never_fetched(celery_worker, client_for, engineer, auditor, tmp_path):
    import http.server
    import threading

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        card = (
            "# Card\n\n"
            '<img src="file:///etc/passwd">\n\n'
            f"![tracker](http://127.0.0.1:{port}/pixel.png)\n\n"
            f'<img src="http://127.0.0.1:{port}/direct.png" alt="direct">\n\n'
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">'
            f"<style>@import url(http://127.0.0.1:{port}/imported.css); body {{ color: red }}</style>\n\n"
            f'<p style="background: url(http://127.0.0.1:{port}/bg.png)">styled</p>\n\n'
            "<script>alert(1)</script> Done."
        )
        model = make_model(engineer, name="Hostile-card", model_card=card)
        deployment = make_deployment(engineer, model, name="hostile")
        response = client_for(auditor).post(
            "/api/v1/reports/", {"kind": "deployment_dossier", "deployment": deployment.pk}, format="json"
        )
        report = _finished(response.json()["id"])
    finally:
        server.shutdown()
    assert report.state == "succeeded", report.error
    assert hits == []
    refused = [r["url"] for r in report.render_log["refused"]]
    assert f"http://127.0.0.1:{port}/pixel.png" in refused and f"http://127.0.0.1:{port}/direct.png" in refused
    assert not any(url.startswith("file:") for url in report.render_log["fetched"])
    # The report's stylesheet, and the page-number layer's.
    assert report.render_log["fetched"] == ["fmgov-static:reports/report.css", "fmgov-static:reports/page-numbers.css"]
    text = pdfcheck.text(_stored(report))
    assert "root:x:0:0" not in text and "alert(1)" not in text
    assert "styled" in text and "Done." in text


def test_a_report_is_rendered_once_when_its_task_is_delivered_twice(engineer, auditor, monkeypatch):
    """Two deliveries at once on two worker processes: one renders, the other finds it claimed."""
    from fmgov.core.testing.worker import start_worker
    from reports import services
    from reports.tasks import render_report

    sent = []
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: sent.append(args))
    deployment = make_deployment(engineer, make_model(engineer, name="Twice"), name="twice")
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    assert sent == [(report.pk,)]
    # Earlier tests in this session may have stored reports with the same id (ids restart after each flush):
    # only the files this test's deliveries write count.
    folder = f"reports/{timezone.now():%Y/%m}"
    before = set(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else set()
    worker = start_worker(queues=["reports-twice"], concurrency=2)
    try:
        results = [render_report.apply_async(args=[report.pk], queue="reports-twice") for _ in range(2)]
        outcomes = sorted(r.get(timeout=120) for r in results)
    finally:
        worker.stop()
    report.refresh_from_db()
    assert report.state == "succeeded" and report.attempts == 1
    assert outcomes == ["skipped: already claimed or finished", "succeeded"]
    assert AuditEvent.objects.filter(action="report.complete", object_id=str(report.pk)).count() == 1
    assert report.file.name.rsplit("/", 1)[0] == folder
    written = set(default_storage.listdir(folder)[1]) - before
    assert [f for f in written if f.startswith(f"report-{report.pk}-")] == [report.file.name.rsplit("/", 1)[1]]


def test_pathological_model_card_fails_that_report_and_the_next_one_succeeds(engineer, auditor, monkeypatch):
    from fmgov.core.testing.worker import start_worker
    from reports import services
    from reports.tasks import render_report

    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    rows = "\n".join(f"| {i} | value {i} | {i * 7} |" for i in range(100_000))
    huge = make_model(engineer, name="Huge-card", model_card="| a | b | c |\n|---|---|---|\n" + rows)
    deep = make_model(engineer, name="Deep-card", model_card="> " * 5000 + "deep\n\n" + "<div>" * 20000 + "x")
    endless_css = "<style>" + "p{color:red}" * 200_000 + "</style><p style='" + "color:red;" * 100_000 + "'>x</p>"
    css = make_model(engineer, name="Css-card", model_card=endless_css)
    fine = make_model(engineer, name="Fine-card")
    reports = [
        services.report_request(actor=auditor, kind="deployment_dossier", deployment=make_deployment(engineer, m))
        for m in (huge, deep, css, fine)
    ]
    worker = start_worker(
        queues=["reports-limits"],
        extra_env={"REPORTS_RENDER_TIMEOUT_SECONDS": "20", "REPORTS_RENDER_MEMORY_MB": "1500"},
    )
    try:
        for report in reports:
            render_report.apply_async(args=[report.pk], queue="reports-limits").get(timeout=180, propagate=False)
    finally:
        worker.stop()
    huge_report, deep_report, css_report, fine_report = (Report.objects.get(pk=r.pk) for r in reports)
    assert huge_report.state == "failed"
    assert "20-second limit" in huge_report.error or "memory limit" in huge_report.error
    assert AuditEvent.objects.filter(action="report.fail", object_id=str(huge_report.pk)).count() == 1
    assert deep_report.state == "failed" and "nested too deeply" in deep_report.error
    # CSS that never ends never reaches the renderer: the sanitiser drops <style> and style attributes.
    assert css_report.state == "succeeded", css_report.error
    assert fine_report.state == "succeeded", fine_report.error
    assert "Fine-card" in pdfcheck.text(_stored(fine_report))


def test_chain_head_on_the_cover_is_the_head_when_rendered(celery_worker, client_for, engineer):
    deployment = make_deployment(engineer, make_model(engineer, name="Own"), name="own")
    response = client_for(engineer).post(
        "/api/v1/reports/", {"kind": "deployment_dossier", "deployment": deployment.pk}, format="json"
    )
    assert response.status_code == 202
    report = _finished(response.json()["id"])
    assert report.state == "succeeded", report.error
    # The head at rendering was the request event itself (nothing else happened in between).
    request_event = AuditEvent.objects.get(action="report.request", object_id=str(report.pk))
    assert (report.audit_head_seq, report.audit_head_hash) == (request_event.seq, request_event.hash)
    assert chain_head()[0] == report.audit_head_seq + 1  # + the completion event
