"""The renderer process: one job (JSON on stdin) in, one PDF file and a JSON result (stdout) out.

Started by ``reports.rendering.pdf.render_pdf`` in a process group of its own,
with a wall-clock timeout; it limits its own address space first (inherited
by the processes it forks), so a pathological input fails here with a clear
message instead of exhausting the worker. It needs no database and no
project settings.

WeasyPrint lays a document out on one core, and a dossier with thousands of
audit events spends nearly all its time in the audit-trail table. So the
report is built as parts (``document.build_parts``): the report proper and
continuations of that table. Each part is laid out and written by a forked
process of a small pool, side by side; the page-number layer is laid out once
the page count is known, and ``assemble`` joins and numbers the pages.
"""

import gc
import json
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False, USE_TZ=True, TIME_ZONE="UTC", DEBUG=False, INSTALLED_APPS=[])
        django.setup()


def _tune_gc_for_one_document() -> None:
    # WeasyPrint allocates millions of short-lived objects; with the default thresholds the cyclic collector
    # keeps rescanning the long-lived ones (about a fifth of the CPU time). This process lays out one part
    # and is done, under its memory limit, so: freeze what exists and collect far less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def lay_out(html: str, pdf_out: str, evidence_json: str | None = None, files: list[dict] | None = None) -> dict:
    """One part (or the page-number layer) to a PDF file, in a pool process; the evidence goes with the first,
    and with it the files the job embeds (copies the parent made in its own temporary directory)."""
    from weasyprint import HTML, Attachment

    from reports.rendering.fetcher import SafeURLFetcher

    _tune_gc_for_one_document()
    fetcher = SafeURLFetcher()
    started, cpu_started = time.perf_counter(), time.process_time()
    document = HTML(string=html, url_fetcher=fetcher).render(pdf_variant="pdf/a-3b")
    attachments = []
    if evidence_json is not None:
        attachments.append(
            Attachment(
                string=evidence_json.encode(),
                name="evidence.json",
                description="The data behind every table and chart of this report (fmgov evidence, JSON).",
                relationship="Data",
            )
        )
    for file in files or []:
        attachments.append(
            Attachment(
                filename=file["path"], name=file["name"], description=file["description"], relationship="Supplement"
            )
        )
    document.write_pdf(pdf_out, pdf_variant="pdf/a-3b", attachments=attachments)
    return {
        "pages": len(document.pages),
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "served": fetcher.served,
        "refused": fetcher.refused,
    }


def render(job: dict, report=lambda done, total: None) -> dict:
    """``report(done, total)`` is told of each finished step."""
    from reports.rendering.assemble import assemble
    from reports.rendering.document import EVENTS_PER_PART, build_parts, page_numbers_html

    _configure_django()
    evidence_json = job["evidence_json"]
    started = time.perf_counter()
    parts = build_parts(job["kind"], json.loads(evidence_json), job.get("events_per_part") or EVENTS_PER_PART)
    html_seconds = time.perf_counter() - started
    processes = max(1, min(len(parts), int(job.get("processes") or 1)))
    with tempfile.TemporaryDirectory(prefix="fmgov-parts-") as tmp:
        paths = [Path(tmp, f"part-{i}.pdf") for i in range(len(parts))]
        numbers_path = Path(tmp, "page-numbers.pdf")
        started = time.perf_counter()
        # fork: the pool's processes start at once, with the templates and the memory limit already in place.
        steps = len(parts) + 1  # each part, then page numbers and assembly
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("fork")) as pool:
            futures = [
                pool.submit(lay_out, html, str(path), *((evidence_json, job.get("files")) if i == 0 else ()))
                for i, (html, path) in enumerate(zip(parts, paths, strict=True))
            ]
            for done, _ in enumerate(as_completed(futures), start=1):
                report(done, steps)
            laid_out = [future.result() for future in futures]
            pages = sum(part["pages"] for part in laid_out)
            numbers = pool.submit(lay_out, page_numbers_html(pages), str(numbers_path)).result()
        weasyprint_seconds = time.perf_counter() - started
        started = time.perf_counter()
        assembled_pages = assemble(paths, numbers_path, Path(job["pdf_out"]))
        assemble_seconds = time.perf_counter() - started
        report(steps, steps)
    if assembled_pages != pages or numbers["pages"] != pages:
        raise RuntimeError(f"assembled {assembled_pages} pages and {numbers['pages']} page numbers for {pages}")
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "ok": True,
        "pages": pages,
        "parts": [part["pages"] for part in laid_out],
        "processes": processes,
        "html_seconds": round(html_seconds, 4),
        "weasyprint_seconds": round(weasyprint_seconds, 4),
        "weasyprint_cpu_seconds": round(sum(part["cpu_seconds"] for part in [*laid_out, numbers]), 4),
        "assemble_seconds": round(assemble_seconds, 4),
        "process_cpu_seconds": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 4),
        "html_bytes": sum(len(html.encode()) for html in parts),
        "peak_rss_mb": round(max(own.ru_maxrss, children.ru_maxrss) / 1024, 1),
        "fetched": [url for part in [*laid_out, numbers] for url in part["served"]],
        "refused": [refusal for part in laid_out for refusal in part["refused"]],
    }


def _progress_reporter(fd: int | None):
    """Writes "done total" lines to the parent's progress pipe (``render_pdf``); the pool's processes inherit
    the descriptor but never write to it."""
    if fd is None:
        return lambda done, total: None

    def report(done: int, total: int) -> None:
        os.write(fd, f"{done} {total}\n".encode())

    return report


def main() -> int:
    job = json.loads(sys.stdin.buffer.read())
    try:
        _limit_memory(int(job["memory_mb"]))
        result = render(job, _progress_reporter(job.get("progress_fd")))
    except MemoryError:
        result = {
            "ok": False,
            "error": f"Rendering needed more than the {job['memory_mb']} MB memory limit and was stopped. "
            "The content is too large to lay out (e.g. a huge table in the model card).",
        }
    except RecursionError:
        result = {"ok": False, "error": "The content is nested too deeply to lay out (e.g. in the model card)."}
    except BrokenProcessPool:
        result = {
            "ok": False,
            "error": "A renderer process stopped abruptly (killed, or out of its "
            f"{job['memory_mb']} MB memory limit) while laying out this report.",
        }
    except Exception as exc:  # reported to the task, which fails this one report with the message
        result = {"ok": False, "error": f"Rendering failed: {type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
