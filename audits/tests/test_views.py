"""Audit trail pages: auditors and admins only, filters, before/after diffs, the htmx verify action."""

import pytest
from django.db import connection
from django.urls import reverse

from audits.selectors import verify_chain
from audits.tests.factories import record_events
from audits.tests.test_chain import _tamper
from audits.views import change_rows
from fmgov.registry.tests.factories import FoundationModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


def test_only_auditors_and_admins(web, engineer, reviewer, auditor, admin_user):
    for user in (engineer, reviewer):
        assert web(user).get(reverse("audits:event-list")).status_code == 403
        assert web(user).get(reverse("audits:verify")).status_code == 403
    for user in (auditor, admin_user):
        assert web(user).get(reverse("audits:event-list")).status_code == 200


def test_before_after_diff_of_an_update(web, auditor, engineer):
    from fmgov.registry.services import foundation_model_update

    model = FoundationModelFactory(owner=engineer, license="mit")
    foundation_model_update(foundation_model=model, actor=engineer, license="apache-2.0")
    page = web(auditor).get(reverse("audits:event-list"), {"action": "foundation_model.update"})
    events = list(page.context["page"])
    assert [e.action for e in events] == ["foundation_model.update"]
    assert {"field": "license", "before": "mit", "after": "apache-2.0"} in events[0].change_rows
    html = page.content.decode()
    assert "<del>mit</del>" in html and "<ins>apache-2.0</ins>" in html


def test_change_rows_shapes():
    assert change_rows({"state": ["draft", "submitted"], "submission": 1}) == [
        {"field": "state", "before": "draft", "after": "submitted"},
        {"field": "submission", "before": "", "after": "1"},
    ]
    assert change_rows({}) == []


def test_filters_by_actor(web, auditor, engineer, reviewer):
    record_events(2, actor=engineer)
    record_events(3, actor=reviewer)
    page = web(auditor).get(reverse("audits:event-list"), {"actor": reviewer.username, "action": "test.event"})
    assert len(page.context["page"]) == 3


def test_verify_chain_fragment_reports_ok_then_the_broken_sequence(web, auditor, engineer):
    events = record_events(3, actor=engineer)
    response = web(auditor).get(reverse("audits:verify"), HTTP_HX_REQUEST="true")
    assert "Chain verified" in response.content.decode()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent DISABLE TRIGGER USER")
        forged = bytes(events[1].canonical).replace(b'"action":"test.event"', b'"action":"test.forge"')
        cursor.execute("UPDATE audits_auditevent SET canonical = %s WHERE seq = %s", [forged, events[1].seq])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audits_auditevent ENABLE ALWAYS TRIGGER audits_auditevent_no_update_delete")
    html = web(auditor).get(reverse("audits:verify")).content.decode()
    assert f"BROKEN at sequence {events[1].seq}" in html and 'role="alert"' in html


def test_the_trail_page_and_api_show_the_hashed_bytes_and_flag_an_edited_column(web, auditor, engineer):
    """An insider's edit of the action column: the page and the API still show what was recorded, flagged."""
    events = record_events(3, actor=engineer)
    _tamper("UPDATE audits_auditevent SET action = %s WHERE seq = %s", ["test.harmless", events[1].seq])
    client = web(auditor)
    page = client.get(reverse("audits:event-list"))
    shown = {event.seq: event for event in page.context["page"]}
    assert shown[events[1].seq].action == "test.event"
    html = page.content.decode()
    assert "columns altered: action" in html and "test.harmless" not in html
    api = client.get("/api/v1/audit-events/").json()
    rows = {row["seq"]: row for row in api["results"]}
    assert rows[events[1].seq]["action"] == "test.event"
    assert rows[events[1].seq]["altered_columns"] == ["action"] and rows[events[0].seq]["altered_columns"] == []
    # a filter reads the column: the edit hides the event from action=test.event, and the column check says so
    filtered = client.get(reverse("audits:event-list"), {"action": "test.event"}).context["page"]
    assert events[1].seq not in {event.seq for event in filtered}
    result = verify_chain(columns=True)
    assert not result.ok and result.first_bad_seq == events[1].seq and "action column" in result.reason


def test_event_list_queries_are_constant(web, auditor, engineer, django_assert_max_num_queries):
    client = web(auditor)
    record_events(3, actor=engineer)
    client.get(reverse("audits:event-list"))
    with django_assert_max_num_queries(6):
        client.get(reverse("audits:event-list"))
    record_events(60, actor=engineer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("audits:event-list"))
    assert len(response.context["page"]) == 50
