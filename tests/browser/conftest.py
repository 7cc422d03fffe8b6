"""Browser tests: Playwright on Debian's Chromium, pytest-django's live server and a real Celery worker.

Playwright, its browser and the lifted async guard live for one module (see ``support``), so
the rest of the session runs exactly as without these tests.
"""

import pytest

from tests.browser.support import browser, browser_type, playwright, sync_orm_beside_playwright

__all__ = ["browser", "browser_type", "playwright", "sync_orm_beside_playwright"]


@pytest.fixture
def site(live_server, celery_worker):
    """The live server's URL, with a worker consuming every queue against the same database."""
    return live_server.url


@pytest.fixture
def taxonomy(transactional_db):
    """The risk taxonomy and default policy the reviews migration seeds.

    Transactional tests empty every table between tests, so the migration's rows
    are put back here with the migration's own (idempotent) seed function.
    """
    from importlib import import_module

    from django.apps import apps

    import_module("fmgov.reviews.migrations.0002_seed_taxonomy_and_default_policy").seed(apps, None)
