"""Shared set-up for benchmark scripts: Django on a throwaway database.

SQLite by default (a temporary file), PostgreSQL when DATABASE_URL is set (a
fresh database created and dropped by Django's test-database machinery).
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fmgov.settings.test")
os.environ.setdefault("FMGOV_TEST_SESSION", f"bench-{os.getpid()}")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402


@contextmanager
def benchmark_database():
    """Create a migrated throwaway database, yield its vendor name, then drop it."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def describe_database() -> str:
    return "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"


def emit(
    benchmark: str,
    value: float,
    *,
    baseline: float | None = None,
    goal: float | None = None,
    op: str = "<=",
    unit: str = "",
) -> dict:
    """Print one figure as a JSON line (``make bench`` tabulates them) and return it.

    With a baseline the goal is on the ratio value/baseline, without one on the value itself.
    """
    import json

    ratio = value / baseline if baseline else None
    measured = ratio if baseline else value
    met = None if goal is None else (measured <= goal if op == "<=" else measured >= goal)
    figure = {
        "benchmark": benchmark,
        "value": round(value, 6),
        "baseline": None if baseline is None else round(baseline, 6),
        "ratio": None if ratio is None else round(ratio, 4),
        "goal": goal,
        "op": op,
        "unit": unit,
        "met": met,
        "database": describe_database(),
    }
    print(json.dumps(figure), flush=True)
    return figure
