"""Every page the pages benchmark times runs a number of queries that does not grow with the data (issue 18).

Seeds a tiny registry, counts each page's queries, seeds four times as much
again, and asserts no page runs more queries than before.
"""

from io import StringIO

import pytest
from django.core.cache.backends.dummy import DummyCache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fmgov.dashboard.scale import measured_pages

pytestmark = pytest.mark.django_db

SMALL = ["--models", "3", "--adaptations", "40", "--depth", "5", "--deployments", "12", "--reviews", "4"]
LARGER = ["--models", "6", "--adaptations", "160", "--depth", "8", "--deployments", "48", "--reviews", "16"]


def _counts(client: Client) -> dict[str, int]:
    counts = {}
    for name, path in measured_pages():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, (name, path, response.status_code)
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_the_data(auditor, django_assert_max_num_queries, monkeypatch) -> None:
    # The dashboard's cached panels would be computed once at most; count what computing them takes.
    monkeypatch.setattr("audits.cached_reads.cache", DummyCache("", {}))
    client = Client()
    client.force_login(auditor)
    call_command("seed_scale", *SMALL, "--runs", "20", "--events", "60", stdout=StringIO())
    client.get("/")  # the session and caches settle before counting
    small = _counts(client)
    assert len(small) >= 25
    call_command("seed_scale", *LARGER, "--runs", "80", "--events", "240", "--prefix", "more", stdout=StringIO())
    for name, path in measured_pages():
        with django_assert_max_num_queries(small[name], info=f"{name}: {path}"):
            assert client.get(path).status_code == 200
