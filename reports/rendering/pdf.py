"""Run the renderer in its own short-lived process group, under a wall-clock and a memory limit.

A pathological model card (a 100,000-row table, nesting thousands deep) can
exhaust time or memory while WeasyPrint lays it out. Rendering in a child
process bounds both (the child sets ``RLIMIT_AS`` on itself and is killed at
the timeout), fails only that report with a clear message, and hands every
byte of memory back to the system when the child exits, so the Celery worker
stays small and the next report renders normally. The renderer forks a few
processes of its own to lay parts out in parallel; it runs as the leader of
a new session, so the timeout kills the whole group, not only the leader.
"""

import contextlib
import json
import os
import signal
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
    *,
    kind: str,
    evidence_json: str,
    timeout: int,
    memory_mb: int,
    processes: int = 1,
    events_per_part: int | None = None,
) -> RenderOutput:
    """Evidence (JSON text) in, PDF bytes out; raises RenderError on timeout, memory or layout failure.

    ``processes`` lay parts out side by side; ``memory_mb`` limits each of them; ``events_per_part``
    overrides how many audit-trail rows a part holds (``document.EVENTS_PER_PART``)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fmgov-report-") as tmp:
        pdf_path = Path(tmp) / "report.pdf"
        job = {
            "kind": kind,
            "evidence_json": evidence_json,
            "pdf_out": str(pdf_path),
            "memory_mb": memory_mb,
            "processes": processes,
            "events_per_part": events_per_part,
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reports.rendering.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=PROJECT_ROOT,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8"},
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(json.dumps(job).encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise RenderError(
                f"Rendering took longer than the {timeout}-second limit and was stopped. "
                "The content is too large or too complex to lay out (e.g. a huge table in the model card)."
            )
        elapsed = time.perf_counter() - started
        _kill_group(proc)  # a pool process the renderer left behind (it should leave none)
        try:
            result = json.loads(stdout.decode() or "{}")
        except ValueError:
            result = {}
        if proc.returncode != 0 or not result.get("ok"):
            message = result.get("error")
            if not message:
                tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
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


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the renderer and every process it forked, then reap the renderer."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
