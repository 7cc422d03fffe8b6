"""Limits for rendering one report, from settings, else the environment, else safe defaults.

Suggested settings lines (owned by the lead):
``REPORTS_RENDER_TIMEOUT_SECONDS = env.int("REPORTS_RENDER_TIMEOUT_SECONDS", default=600)`` and
``REPORTS_RENDER_MEMORY_MB = env.int("REPORTS_RENDER_MEMORY_MB", default=3072)``;
``REPORTS_RENDER_PROCESSES`` defaults to the CPUs available, at most four.
"""

import os

from django.conf import settings

__all__ = [
    "render_timeout_seconds",
    "render_memory_mb",
    "render_processes",
    "task_soft_time_limit",
    "task_time_limit",
]


def _setting(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name) or default
    return int(value)


def render_timeout_seconds() -> int:
    """Wall-clock seconds the renderer process may take before it is killed."""
    return _setting("REPORTS_RENDER_TIMEOUT_SECONDS", 600)


def render_memory_mb() -> int:
    """Address-space limit of the renderer process (RLIMIT_AS)."""
    return _setting("REPORTS_RENDER_MEMORY_MB", 3072)


def render_processes() -> int:
    """Processes that lay the parts of one report out side by side: by default one per CPU this process may
    use, at most four (a part's memory limit applies to each)."""
    return max(1, _setting("REPORTS_RENDER_PROCESSES", min(4, len(os.sched_getaffinity(0)))))


def task_soft_time_limit() -> int:
    """The Celery task's own limits: the render timeout plus time to gather the data and store the file."""
    return render_timeout_seconds() + 240


def task_time_limit() -> int:
    return task_soft_time_limit() + 60
