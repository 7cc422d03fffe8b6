"""The renderer's safety and building blocks: URL fetcher, sanitiser, SVG, claim-once."""

import datetime as dt
import http.server
import re
import threading

import pytest
from django.utils import timezone
from weasyprint import HTML

from fmgov.core import svg
from reports.rendering import fetcher as fetcher_module
from reports.rendering.fetcher import STATIC_SCHEME, RefusedURL, SafeURLFetcher
from reports.rendering.markup import markdown_to_safe_html


@pytest.fixture
def reads(monkeypatch):
    """Every file the fetcher reads."""
    seen = []
    original = fetcher_module._read_bytes

    def spy(path):
        seen.append(str(path))
        return original(path)

    monkeypatch.setattr(fetcher_module, "_read_bytes", spy)
    return seen


@pytest.fixture
def local_server():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "../../../../etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "https://example.org/logo.png",
        "data:text/css,body{}",
        "ftp://example.org/x.css",
        f"{STATIC_SCHEME}reports/../../../../etc/passwd",
        f"{STATIC_SCHEME}reports/%2e%2e/%2e%2e/settings.py",
        f"{STATIC_SCHEME}/etc/passwd",
        f"{STATIC_SCHEME}reports/report.css\x00.png",
        f"{STATIC_SCHEME}reports/missing.css",
        f"{STATIC_SCHEME}../rendering/fetcher.py",
    ],
)
def test_fetcher_refuses_everything_but_own_static_assets(url, reads):
    fetcher = SafeURLFetcher()
    with pytest.raises(RefusedURL):
        fetcher.fetch(url)
    assert reads == []
    assert fetcher.refused == [{"url": url, "reason": fetcher.refused[0]["reason"]}] and fetcher.served == []


def test_fetcher_serves_the_report_stylesheet(reads):
    fetcher = SafeURLFetcher()
    response = fetcher.fetch(f"{STATIC_SCHEME}reports/report.css")
    assert b"@page" in response.read() and response.content_type == "text/css"
    assert len(reads) == 1 and reads[0].endswith("reports/static/reports/report.css")


def test_weasyprint_with_the_fetcher_loads_nothing_from_file_or_network(reads, local_server, tmp_path):
    """Raw HTML, not sanitised: the fetcher alone must stop every load."""
    base, hits = local_server
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    html = (
        f'<link rel="stylesheet" href="{base}/style.css">'
        f'<link rel="stylesheet" href="file://{secret}">'
        '<img src="file:///etc/passwd">'
        f'<img src="{base}/pixel.png">'
        f'<div style="background: url({base}/bg.png)">x</div>'
        f"<style>@import url({base}/imported.css);</style>"
    )
    fetcher = SafeURLFetcher()
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF")
    refused = {r["url"] for r in fetcher.refused}
    assert {f"{base}/style.css", f"file://{secret}", "file:///etc/passwd", f"{base}/pixel.png"} <= refused
    assert f"{base}/imported.css" in refused and f"{base}/bg.png" in refused
    assert hits == [] and reads == [] and fetcher.served == []


def test_markdown_is_sanitised():
    html = markdown_to_safe_html(
        '# Title\n\n<script>alert(1)</script>\n\n<img src="file:///etc/passwd" onerror="x()">\n\n'
        '<a href="javascript:alert(1)">j</a> <p style="color:red" onclick="x()">p</p>\n\n'
        "<style>body{}</style><iframe src='http://127.0.0.1/'></iframe>\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<script" not in html and "alert(1)" not in html and "onerror" not in html and "onclick" not in html
    assert "file:" not in html and "javascript:" not in html and "style=" not in html
    assert "<style" not in html and "<iframe" not in html
    assert "<h4>Title</h4>" in html and "<table>" in html and "<td>2</td>" in html


def test_svg_escapes_labels_and_draws_thresholds():
    """The PDF draws with the pages' SVG module: vertical, no links, every label escaped, the threshold labelled."""
    drawing = svg.lineage_svg(
        [
            svg.DagNode(key="model:1", label="<script>x</script>", sublabel="a & b", href="http://127.0.0.1/"),
            svg.DagNode(key="adaptation:2", label="child", parents=["model:1"], current=True),
        ],
        title="Lineage",
        orientation="vertical",
    )
    assert "<script>" not in drawing and "&lt;script&gt;" in drawing and "a &amp; b" in drawing
    assert drawing.count("<rect") == 2 and drawing.count('class="edge"') == 1
    rows = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', drawing)]
    assert rows[0] < rows[1]  # the parent above its child
    chart = svg.trend_svg(
        [
            svg.TrendPoint(dt.datetime(2026, 11, 1, tzinfo=dt.UTC), 0.8),
            svg.TrendPoint(dt.datetime(2026, 11, 2, tzinfo=dt.UTC), 0.7, False),
        ],
        title="acc",
        threshold=0.75,
        op=">=",
    )
    assert "threshold &gt;= 0.75" in chart and 'class="threshold"' in chart and 'class="point fail"' in chart
    assert "http" not in chart.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.django_db
def test_a_claimed_report_is_not_claimed_again_until_its_claim_is_stale(engineer, auditor, monkeypatch):
    from reports import services
    from reports.tests.factories import make_deployment, make_model

    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    deployment = make_deployment(engineer, make_model(engineer))
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    first = services._claim(report.pk)
    assert first is not None and first.state == "running" and first.attempts == 1
    assert services._claim(report.pk) is None
    # A worker killed mid-render leaves the row running; past the hard time limit another delivery takes over.
    first.started_at = timezone.now() - dt.timedelta(seconds=services.conf.task_time_limit() + 120)
    first.save(update_fields=["started_at"])
    again = services._claim(report.pk)
    assert again is not None and again.attempts == 2
    # The first attempt's late result is discarded, not recorded.
    services._fail(first, 1, "late")
    again.refresh_from_db()
    assert again.state == "running" and again.error == ""


@pytest.mark.django_db
def test_a_deployment_without_reviews_runs_or_findings_renders_empty_sections(engineer, auditor, monkeypatch):
    """Nothing recorded yet: each section says so in words instead of drawing empty tables."""
    from reports import selectors, services
    from reports.rendering.child import _configure_django
    from reports.rendering.document import build_parts
    from reports.tests.factories import make_deployment, make_model

    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    deployment = make_deployment(engineer, make_model(engineer))
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    evidence = selectors.dossier_evidence(report)
    assert evidence["reviews"] == {"reviews": [], "register_review_id": None}
    assert evidence["evaluations"] == {"runs": [], "series": []}
    assert evidence["findings"] == {"findings": []}
    _configure_django()
    (html,) = build_parts("deployment_dossier", evidence)
    assert "No risk review has been recorded for this deployment, so there is no risk register." in html
    assert "No risk review has been recorded for this deployment.</div>" in html
    assert "No evaluation run with metrics has been recorded for this deployment." in html
    assert "No findings have been opened for this deployment." in html
    assert "<th>Reviewer</th>" not in html and "holds no data" not in html


@pytest.mark.django_db
def test_sweep_requeues_a_report_whose_worker_died_then_fails_it(engineer, auditor, monkeypatch):
    from audits.models import AuditEvent
    from reports import services
    from reports.tests.factories import make_deployment, make_model

    sent = []
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: sent.append(args))
    report = services.report_request(
        actor=auditor, kind="deployment_dossier", deployment=make_deployment(engineer, make_model(engineer))
    )
    long_ago = timezone.now() - dt.timedelta(seconds=services.conf.task_time_limit() + 120)
    claimed = services._claim(report.pk)
    assert services.reports_sweep_stuck() == {"requeued": [], "failed": []}  # still within the time limit
    claimed.started_at = long_ago
    claimed.save(update_fields=["started_at"])
    assert services.reports_sweep_stuck() == {"requeued": [report.pk], "failed": []}
    assert sent == [(report.pk,), (report.pk,)]
    claimed = services._claim(report.pk)
    assert claimed.attempts == 2
    claimed.started_at = long_ago
    claimed.save(update_fields=["started_at"])
    assert services.reports_sweep_stuck() == {"requeued": [], "failed": [report.pk]}
    claimed.refresh_from_db()
    assert claimed.state == "failed" and "stopped responding 2 times" in claimed.error
    assert (
        AuditEvent.objects.filter(object_id=str(report.pk), action__in=["report.requeue", "report.fail"]).count() == 2
    )
