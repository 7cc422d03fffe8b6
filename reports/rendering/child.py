"""The renderer process: one job (JSON on stdin) in, one PDF file and a JSON result (stdout) out.

Started by ``reports.rendering.pdf.render_pdf`` with a wall-clock timeout; it
limits its own address space first, so a pathological input fails here with
a clear message instead of exhausting the worker. It needs no database and no
project settings.
"""

import gc
import json
import resource
import sys
import time


def _limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _configure_django() -> None:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False, USE_TZ=True, TIME_ZONE="UTC", DEBUG=False, INSTALLED_APPS=[])
        django.setup()


def render(job: dict) -> dict:
    from weasyprint import HTML, Attachment

    from reports.rendering.document import build_html
    from reports.rendering.fetcher import SafeURLFetcher

    _configure_django()
    evidence_json = job["evidence_json"]
    evidence = json.loads(evidence_json)
    started = time.perf_counter()
    html = build_html(job["kind"], evidence)
    html_seconds = time.perf_counter() - started
    if job.get("html_out"):
        with open(job["html_out"], "w", encoding="utf-8") as fh:
            fh.write(html)
    fetcher = SafeURLFetcher()
    # WeasyPrint allocates millions of short-lived objects; with the default thresholds the cyclic collector
    # keeps rescanning the long-lived ones (about a fifth of the CPU time). This process renders one document
    # and exits, under its memory limit, so: freeze what exists and collect far less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    started, cpu_started = time.perf_counter(), time.process_time()
    document = HTML(string=html, url_fetcher=fetcher).render(pdf_variant="pdf/a-3b")
    attachment = Attachment(
        string=evidence_json.encode(),
        name="evidence.json",
        description="The data behind every table and chart of this report (fmgov evidence, JSON).",
        relationship="Data",
    )
    document.write_pdf(job["pdf_out"], pdf_variant="pdf/a-3b", attachments=[attachment])
    weasyprint_seconds = time.perf_counter() - started
    weasyprint_cpu_seconds = time.process_time() - cpu_started
    return {
        "ok": True,
        "pages": len(document.pages),
        "html_seconds": round(html_seconds, 4),
        "weasyprint_seconds": round(weasyprint_seconds, 4),
        "weasyprint_cpu_seconds": round(weasyprint_cpu_seconds, 4),
        "process_cpu_seconds": round(time.process_time(), 4),
        "html_bytes": len(html.encode()),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fetched": fetcher.served,
        "refused": fetcher.refused,
    }


def main() -> int:
    job = json.loads(sys.stdin.buffer.read())
    try:
        _limit_memory(int(job["memory_mb"]))
        result = render(job)
    except MemoryError:
        result = {
            "ok": False,
            "error": f"Rendering needed more than the {job['memory_mb']} MB memory limit and was stopped. "
            "The content is too large to lay out (e.g. a huge table in the model card).",
        }
    except RecursionError:
        result = {"ok": False, "error": "The content is nested too deeply to lay out (e.g. in the model card)."}
    except Exception as exc:  # reported to the task, which fails this one report with the message
        result = {"ok": False, "error": f"Rendering failed: {type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
