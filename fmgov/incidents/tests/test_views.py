"""The dashboard shows each open incident's time left, soonest deadline first, and says when one is overdue."""

from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client

from fmgov.evaluations.tests.factories import DeploymentFactory
from fmgov.incidents import services
from fmgov.incidents.tests.factories import open_incident

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_each_open_incidents_clock(reviewer, engineer):
    deployment = DeploymentFactory(owner=engineer)
    slow = open_incident(reviewer, deployments=[deployment], summary="Slow one")  # 15 days
    fast = open_incident(reviewer, deployments=[deployment], summary="Fast one", harm_category="death")  # 10 days
    done = open_incident(reviewer, deployments=[deployment], summary="Reported one")
    services.incident_report(incident=done, actor=reviewer)
    client = Client()
    client.force_login(reviewer)
    page = client.get("/").content.decode()
    assert "Serious incidents to report" in page
    assert page.index(f"#{fast.pk} Fast one") < page.index(f"#{slow.pk} Slow one")
    assert "Reported one" not in page
    assert "1\xa0week, 2\xa0days" in page or "1\xa0week, 3\xa0days" in page  # the 10-day clock, an hour in
    later = fast.report_due_at + timedelta(hours=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        page = client.get("/").content.decode()
    assert "overdue by 2\xa0hours" in page
