"""A long dossier is laid out in parts by parallel processes and read back as one numbered document."""

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from fmgov.core.testing.worker import wait_for
from reports import services
from reports.rendering import pdf as pdf_module
from reports.rendering.pdf import RenderError, render_pdf
from reports.selectors import dossier_evidence
from reports.tests import pdfcheck
from reports.tests.factories import make_deployment, make_model

pytestmark = pytest.mark.django_db

EVENTS_PER_PART = 25


@pytest.fixture
def long_dossier_evidence(engineer, auditor, monkeypatch) -> dict:
    """A real dossier's evidence with its audit trail lengthened to 110 events (the renderer reads only this)."""
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    deployment = make_deployment(engineer, make_model(engineer, name="Parts-LM"), name="parts-bot")
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    evidence = dossier_evidence(report)
    events = evidence["audit_trail"]["events"]
    template, seq = events[-1], events[-1]["seq"]
    while len(events) < 110:
        seq += 1
        events.append(
            {
                **template,
                "seq": seq,
                "action": "deployment.update",
                "changes": {"region": ["eu-west-1", f"eu-west-{seq % 3}"]},
                "hash": hashlib.sha256(str(seq).encode()).hexdigest(),
            }
        )
    return evidence


def _flattened(outline: list) -> list:
    return [leaf for item in outline for leaf in (_flattened(item) if isinstance(item, list) else [item])]


def _pages_text(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pdfcheck.reader(data).pages]


def test_parts_laid_out_side_by_side_read_as_one_numbered_document(long_dossier_evidence):
    evidence = long_dossier_evidence
    evidence_json = services.evidence_to_json(evidence)
    progress = []
    output = render_pdf(
        kind="deployment_dossier",
        evidence_json=evidence_json,
        timeout=120,
        memory_mb=2048,
        processes=2,
        events_per_part=EVENTS_PER_PART,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    events = evidence["audit_trail"]["events"]
    assert len(output.log["parts"]) == 1 + -(-(len(events) - EVENTS_PER_PART) // EVENTS_PER_PART) == 5
    # Progress as each of the five parts is laid out, then once numbered and joined.
    assert progress == [(done, 6) for done in range(1, 7)]
    assert output.log["processes"] == 2 and sum(output.log["parts"]) == output.pages
    pages = _pages_text(output.pdf)
    assert len(pages) == output.pages

    # Every page numbered once, in order, against the total; the running header (title) on every page.
    for number, text in enumerate(pages, start=1):
        assert re.findall(r"Page (\d+) of (\d+)", text) == [(str(number), str(output.pages))], number
        assert "Deployment dossier: parts-bot" in text, number

    # Each continuation starts on a page of its own and says which rows it holds.
    for start in range(EVENTS_PER_PART + 1, len(events) + 1, EVENTS_PER_PART):
        last = min(start + EVENTS_PER_PART - 1, len(events))
        line = f"9. Audit trail, continued: events {start} to {last} of the {len(events)} listed."
        assert sum(line in text for text in pages) == 1, line

    # Every event, in sequence order, with its hash prefix.
    flat = pdfcheck.squeezed(output.pdf)
    trail_start = flat.index("Event:actor·action·object—changesHash")  # after the head hash above the table
    positions = [flat.index(event["hash"][:16], trail_start) for event in events]
    assert positions == sorted(positions)

    # The table of contents and the outline point at the page where the audit trail begins.
    toc_page = int(re.search(r"9\. Audit trail[ .]*(\d+)", pages[1]).group(1))
    assert "Chain verified" in pages[toc_page - 1] and "Chain verified" not in pages[toc_page - 2]
    reader = pdfcheck.reader(output.pdf)
    (trail,) = [item for item in _flattened(reader.outline) if item.title == "9. Audit trail"]
    assert reader.get_destination_page_number(trail) == toc_page - 1

    # Each part subsets its fonts on its own; in the joined file every font program has a name of its own.
    programs: dict[str, set[int]] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for candidate in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                if "/FontDescriptor" in candidate:
                    descriptor = candidate["/FontDescriptor"].get_object()
                    programs.setdefault(descriptor["/FontName"], set()).add(descriptor.raw_get("/FontFile2").idnum)
    assert len(programs) > 5 and all(len(files) == 1 for files in programs.values()), programs

    # One file: the evidence attached once, PDF/A metadata, and the document information agreeing with it.
    assert pdfcheck.evidence(output.pdf) == json.loads(evidence_json)
    xmp = pdfcheck.xmp(output.pdf)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert reader.metadata.title == "Deployment dossier: parts-bot" and reader.metadata.author == "fmgov"
    assert f'pdf:Producer="{reader.metadata.producer}"' in xmp  # pypdf left the producer as written


def test_the_page_number_sits_on_the_footer_line_of_every_part(long_dossier_evidence):
    output = render_pdf(
        kind="deployment_dossier",
        evidence_json=services.evidence_to_json(long_dossier_evidence),
        timeout=120,
        memory_mb=2048,
        processes=2,
        events_per_part=EVENTS_PER_PART,
    )
    reader = pdfcheck.reader(output.pdf)
    first_of_each_part = [0]
    for pages in output.log["parts"][:-1]:
        first_of_each_part.append(first_of_each_part[-1] + pages)
    for index in first_of_each_part + [len(reader.pages) - 1]:
        baselines = {}

        def visit(text, cm, tm, font, size, baselines=baselines):
            for marker in ("fmgov audit report", "Page "):
                if text.startswith(marker):
                    baselines[marker] = (tm[5] * cm[3] + cm[5], tm[4] * cm[0] + cm[4])

        reader.pages[index].extract_text(visitor_text=visit)
        (footer_y, footer_x), (number_y, number_x) = baselines["fmgov audit report"], baselines["Page "]
        assert number_y == pytest.approx(footer_y, abs=1.5), index
        assert number_x > footer_x + 250  # at the right margin, not over the footer text
        assert 0 < number_y < 60  # in the bottom margin of an A4 page (points from the bottom)


def test_a_timeout_stops_the_renderer_and_every_process_it_forked(long_dossier_evidence, monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(pdf_module.subprocess, "Popen", recording_popen)
    with pytest.raises(RenderError, match="longer than the 1-second limit"):
        render_pdf(
            kind="deployment_dossier",
            evidence_json=services.evidence_to_json(long_dossier_evidence),
            timeout=1,
            memory_mb=2048,
            processes=2,
            events_per_part=5,
        )
    (proc,) = started
    assert proc.returncode == -9
    wait_for(lambda: not _running_in_group(proc.pid), timeout=10, message="the renderer's pool processes to stop")


def _running_in_group(group: int) -> list[int]:
    """Processes of a process group that still run (not zombies waiting to be reaped)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            running.append(int(stat.parent.name))
    return running


def test_the_report_row_shows_progress_while_the_renderer_works(engineer, auditor, monkeypatch):
    monkeypatch.setattr(services, "enqueue_on_commit", lambda task, *args: None)
    recorded = []
    real_progress = services._progress

    def progress(report, value):
        real_progress(report, value)
        recorded.append(type(report).objects.get(pk=report.pk).progress)  # as GET /api/v1/reports/{id}/ reads it

    monkeypatch.setattr(services, "_progress", progress)
    deployment = make_deployment(engineer, make_model(engineer, name="Progress-LM"), name="progress-bot")
    report = services.report_request(actor=auditor, kind="deployment_dossier", deployment=deployment)
    report = services.report_render(report_id=report.pk)
    assert report.state == "succeeded", report.error
    # Evidence gathered (40), the one part laid out (65), numbered and joined (90), rendered (90); then 100.
    assert recorded == [40, 65, 90, 90] and report.progress == 100
