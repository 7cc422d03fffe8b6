"""The dashboard's portfolio panels at scale (issue 18): the same queries however much the footprint covers.

The footprint reads the trail's status events (a memo, then only the new tail), the deployments live in
the period with their latest energy run, the models they rest on and the runs' metrics; none of these may
become a query per deployment, per run or per status change.
"""

import datetime as dt

import pytest
from django.utils import timezone

from audits.services import audit_record
from fmgov.portfolio.tests.test_footprint import latency_energy_run
from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db

DASHBOARD_QUERIES = 27  # the trail moved since the organisation-wide panels were cached: computed again
CACHED_DASHBOARD_QUERIES = 7  # the same trail head: the organisation-wide panels come from the cache


def _live_on_two_models(engineer, i: int):
    """A live deployment of an adaptation with two root models, its status change audited, an energy run."""
    first = FoundationModelFactory(owner=engineer, provider=f"Provider {i % 3}", training_energy_kwh=10.0)
    second = FoundationModelFactory(owner=engineer, provider="Other")
    adaptation = AdaptationFactory(owner=engineer, derived_from_models=[first.pk, second.pk])
    deployment = DeploymentFactory(
        owner=engineer, adaptation=adaptation, expected_requests_per_day=1000, expected_tokens_per_request=100
    )
    deployment.status = "live"
    deployment.save(update_fields=["status"])
    audit_record(action="deployment.status", system="test", obj=deployment, changes={"status": ["approved", "live"]})
    latency_energy_run(deployment, engineer, wh=1.0, g=1.0, finished=timezone.now())
    return deployment


def test_dashboard_queries_do_not_grow_with_the_footprint(client, engineer, auditor, django_assert_num_queries):
    client.force_login(auditor)
    _live_on_two_models(engineer, 0)
    client.get("/")  # the session settles, the status memo reads the whole trail once, the panels are cached
    with django_assert_num_queries(CACHED_DASHBOARD_QUERIES):
        response = client.get("/")
    assert response.context["portfolio"]["concentration"]["live_deployments"] == 1
    for i in range(1, 8):
        _live_on_two_models(engineer, i)
    with django_assert_num_queries(DASHBOARD_QUERIES):  # the trail moved: its tail is read in the same query
        response = client.get("/")
    footprint = response.context["portfolio"]["footprint"]
    assert footprint["inference"]["estimated_deployments"] == footprint["inference"]["deployments_in_period"] == 8
    assert footprint["training"]["models_in_use"] == 16 and footprint["training"]["undisclosed_models"] == 8
    assert footprint["training"]["energy_kwh"] == pytest.approx(80.0)
    assert response.context["portfolio"]["concentration"]["live_deployments"] == 8


def test_cached_footprint_follows_the_date(client, engineer, auditor, monkeypatch):
    """The footprint's period ends today: a new day computes it again under the same trail head."""
    from fmgov.dashboard import views

    client.force_login(auditor)
    _live_on_two_models(engineer, 0)
    today = timezone.localdate()
    assert client.get("/").context["portfolio"]["footprint"]["period_end"] == today.isoformat()
    tomorrow = today + dt.timedelta(days=1)
    monkeypatch.setattr(views.timezone, "localdate", lambda: tomorrow)
    assert client.get("/").context["portfolio"]["footprint"]["period_end"] == tomorrow.isoformat()
