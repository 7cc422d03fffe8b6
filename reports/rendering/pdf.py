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
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.rendering.signing import ReportSigningError, sign_report_pdf

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
    on_progress: Callable[[int, int], None] | None = None,
    embedded_files: Sequence[Any] = (),
) -> RenderOutput:
    """Evidence (JSON text) in, PDF bytes out; raises RenderError on timeout, memory or layout failure.

    ``processes`` lay parts out side by side; ``memory_mb`` limits each of them; ``events_per_part``
    overrides how many audit-trail rows a part holds (``document.EVENTS_PER_PART``); ``on_progress(done,
    total)`` is called in this thread as the renderer finishes each step; ``embedded_files`` (``name``, ``sha256``,
    ``description``, ``open()``) are embedded beside evidence.json, each copied here first and checked against
    its digest, so the renderer reads only files this process wrote."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="fmgov-report-") as tmp:
        pdf_path = Path(tmp) / "report.pdf"
        files = [_copy_checked(f, Path(tmp) / f"embed-{i}") for i, f in enumerate(embedded_files)]
        progress_read, progress_write = os.pipe()
        job = {
            "kind": kind,
            "evidence_json": evidence_json,
            "pdf_out": str(pdf_path),
            "memory_mb": memory_mb,
            "processes": processes,
            "events_per_part": events_per_part,
            "progress_fd": progress_write,
            "files": files,
        }
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "reports.rendering.child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=PROJECT_ROOT,
                env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "LANG": "C.UTF-8"},
                start_new_session=True,
                pass_fds=(progress_write,),
            )
        finally:
            os.close(progress_write)  # the renderer and its pool hold the only write ends: EOF when all are done
        try:
            stdout, stderr = _talk(proc, json.dumps(job).encode(), progress_read, timeout, on_progress)
        except subprocess.TimeoutExpired:
            raise RenderError(
                f"Rendering took longer than the {timeout}-second limit and was stopped. "
                "The content is too large or too complex to lay out (e.g. a huge table in the model card)."
            )
        finally:
            _kill_group(proc)  # on a timeout or an error here; otherwise a pool process left behind (none should be)
        elapsed = time.perf_counter() - started
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
        try:
            pdf, result["signature"] = sign_report_pdf(pdf_path.read_bytes())  # last: an incremental update
        except ReportSigningError as exc:
            raise RenderError(str(exc)) from None
        return RenderOutput(pdf=pdf, pages=int(result.pop("pages")), log=result)


def _copy_checked(file: Any, path: Path) -> dict:
    """Copy one file to embed into the render's directory; RenderError if its bytes no longer match its digest."""
    import hashlib

    digest = hashlib.sha256()
    with file.open() as source, open(path, "wb") as target:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            target.write(chunk)
    if digest.hexdigest() != file.sha256:
        raise RenderError(f"The stored bytes of {file.name} no longer match their SHA-256 {file.sha256}; not embedded.")
    return {"path": str(path), "name": file.name, "description": file.description}


def _talk(
    proc: subprocess.Popen,
    job: bytes,
    progress_fd: int,
    timeout: float,
    on_progress: Callable[[int, int], None] | None,
) -> tuple[bytes, bytes]:
    """Send the job and collect stdout and stderr (a helper thread), while this thread relays progress lines
    ("done total") until every renderer process has closed the pipe; TimeoutExpired past the deadline."""
    deadline = time.monotonic() + timeout
    outcome: dict[str, tuple[bytes, bytes]] = {}
    talker = threading.Thread(target=lambda: outcome.update(out=proc.communicate(job)), daemon=True)
    talker.start()
    pending = b""
    with os.fdopen(progress_fd, "rb", buffering=0) as progress:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([progress], [], [], remaining)[0]:
                raise subprocess.TimeoutExpired(proc.args, timeout)
            chunk = progress.read(4096)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                done, total = (int(n) for n in line.split())
                if on_progress is not None:
                    on_progress(done, total)
    talker.join(max(0.0, deadline - time.monotonic()))
    if "out" not in outcome:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    return outcome["out"]


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the renderer and every process it forked, then reap the renderer."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
