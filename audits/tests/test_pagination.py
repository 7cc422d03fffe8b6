"""Pages of the trail without counting every row: the chain head numbers the whole trail, filters count to a limit."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audits import pagination
from audits.models import AuditEvent
from audits.pagination import TrailPaginator
from audits.selectors import audit_event_list
from audits.tests.factories import record_events

pytestmark = pytest.mark.django_db


def _pages(paginator) -> list[list[int]]:
    return [[event.seq for event in paginator.page(n)] for n in paginator.page_range]


@pytest.mark.parametrize("ordering", ["-seq", "seq"])
def test_the_whole_trail_pages_exactly_as_django_counts_it(ordering):
    record_events(23)
    trail = AuditEvent.objects.order_by(ordering)
    ours, django = TrailPaginator(trail, 5), Paginator(trail, 5)
    assert ours.count == django.count == 23 and ours.count_is_exact
    assert _pages(ours) == _pages(django)
    with CaptureQueriesContext(connection) as queries:
        list(TrailPaginator(trail, 5).page(4))
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "COUNT(" not in sql.upper() and "OFFSET" not in sql.upper()  # the head, then a range of the key


def test_a_filtered_trail_counts_to_the_limit_and_says_so(monkeypatch):
    record_events(8, action="test.many")
    record_events(3, action="test.few")
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    many = TrailPaginator(audit_event_list().filter(action="test.many"), 2)
    assert many.count == 5 and not many.count_is_exact and many.num_pages == 3
    assert [e.action for e in many.page(3)] == ["test.many"]
    few = TrailPaginator(audit_event_list().filter(action="test.few"), 2)
    assert few.count == 3 and few.count_is_exact
    assert _pages(few) == _pages(Paginator(audit_event_list().filter(action="test.few"), 2))


def test_the_page_and_the_api_say_when_there_are_more(client, auditor, monkeypatch):
    record_events(7, action="test.many")
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 5)
    client.force_login(auditor)
    html = client.get(reverse("audits:event-list"), {"action": "test.many"}).content.decode()
    assert "More than 5 events" in html
    html = client.get(reverse("audits:event-list")).content.decode()
    assert f"{AuditEvent.objects.count()} events" in html
    body = client.get("/api/v1/audit-events/", {"action": "test.many"}).json()
    assert body["count"] == 5 and body["count_is_exact"] is False and len(body["results"]) == 5
    body = client.get("/api/v1/audit-events/").json()
    assert body["count"] == AuditEvent.objects.count() and body["count_is_exact"] is True
    assert [row["seq"] for row in body["results"]] == list(
        AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[:50]
    )
