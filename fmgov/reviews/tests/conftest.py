"""Review tests rely on the seeded taxonomy and default policy.

A transactional test (here or in another app) empties every table when it
ends, which removes rows that a data migration created. Re-running the
migration's idempotent seed before each test puts them back.
"""

import importlib

import pytest
from django.apps import apps

seed_migration = importlib.import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy")


@pytest.fixture(autouse=True)
def seeded_taxonomy(request):
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    seed_migration.seed(apps, None)
