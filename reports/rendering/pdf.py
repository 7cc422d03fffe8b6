"""Run the renderer in its own short-lived process, under a wall-clock and a memory limit.

A pathological model card (a 100,000-row table, nesting thousands deep) can
exhaust time or memory while WeasyPrint lays it out. Rendering in a child
process bounds both (the child sets ``RLIMIT_AS`` on itself and is killed at
the timeout), fails only that report with a clear message, and hands every
byte of memory back to the system when the child exits, so the Celery worker
stays small and the next report renders normally.
"""

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RenderError", "RenderOutput", "render_pdf"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


class RenderError(RuntimeError):
    """The renderer could not produce this report; ``str()`` says why, for a person."""


@dataclass
class RenderOutput:
    pdf: bytes
    pages: int
    log: dict = field(default_factory=dict)


def render_pdf(
    *, kind: str, evidence_json: str, timeout: int, memory_mb: int, html_out: str | None = None
) -> RenderOutput:
    """Evidence (JSON text) in, PDF bytes out; raises RenderError on timeout, memory or layout failure."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fmgov-report-") as tmp:
        pdf_path = Path(tmp) / "report.pdf"
        job = {
            "kind": kind,
            "evidence_json": evidence_json,
            "pdf_out": str(pdf_path),
            "html_out": html_out,
            "memory_mb": memory_mb,
        }
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "reports.rendering.child"],
                input=json.dumps(job).encode(),
                capture_output=True,
                timeout=timeout,
                cwd=PROJECT_ROOT,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8"},
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RenderError(
                f"Rendering took longer than the {timeout}-second limit and was stopped. "
                "The content is too large or too complex to lay out (e.g. a huge table in the model card)."
            )
        elapsed = time.perf_counter() - started
        try:
            result = json.loads(proc.stdout.decode() or "{}")
        except ValueError:
            result = {}
        if proc.returncode != 0 or not result.get("ok"):
            message = result.get("error")
            if not message:
                tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
                if proc.returncode < 0:
                    message = f"The renderer process was killed by signal {-proc.returncode}"
                else:
                    message = f"The renderer process failed (exit status {proc.returncode})"
                if tail:
                    message += ": " + " | ".join(tail)
            raise RenderError(message)
        result.pop("ok")
        result["process_seconds"] = round(elapsed, 4)
        return RenderOutput(pdf=pdf_path.read_bytes(), pages=int(result.pop("pages")), log=result)
