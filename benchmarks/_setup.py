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
