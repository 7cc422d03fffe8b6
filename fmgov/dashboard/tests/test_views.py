"""The dashboard: what waits for me, what expires, the inventory, the portfolio, in constant queries."""

import pytest
from django.core.cache.backends.dummy import DummyCache

from fmgov.registry.tests.factories import AdaptationFactory, DeploymentFactory, FoundationModelFactory
from fmgov.reviews.tests.factories import ReviewPolicyFactory, submitted_review


@pytest.fixture
def web(client):
    def _as(user):
        client.force_login(user)
        return client

    return _as


@pytest.mark.django_db
def test_dashboard_shows_what_waits_for_me_and_expiring_approvals(web, engineer, reviewer, other_reviewer):
    waiting = submitted_review(author=engineer)
    approved = submitted_review(author=engineer, policy=ReviewPolicyFactory(quorum=1, validity_days=20))
    from fmgov.reviews.services import sign_off_create

    sign_off_create(review=approved, actor=other_reviewer, decision="approve")
    response = web(reviewer).get("/")
    assert [r.pk for r in response.context["awaiting"]] == [waiting.pk]
    assert [r.pk for r in response.context["expiring"]] == [approved.pk]
    counts = {value: n for value, _, n in response.context["deployments"]}
    assert counts["approved"] == 1 and counts["proposed"] == 1


@pytest.mark.django_db
def test_dashboard_queries_are_constant(web, engineer, reviewer, django_assert_max_num_queries, monkeypatch):
    monkeypatch.setattr("audits.cached_reads.cache", DummyCache("", {}))  # the panels computed every time
    client = web(reviewer)
    submitted_review(author=engineer)
    first = DeploymentFactory(owner=engineer)
    first.status = "live"  # an empty portfolio skips queries; start from a non-empty one
    first.save(update_fields=["status"])
    client.get("/")
    # 30 before the documentation panel, whose portfolio completeness is 4 queries (records, and three counts).
    with django_assert_max_num_queries(34) as small:
        client.get("/")
    for i in range(6):
        submitted_review(author=engineer)
        model = FoundationModelFactory(owner=engineer, provider=f"Provider {i % 3}")
        AdaptationFactory(owner=engineer, derived_from_models=[model.pk])
        deployment = DeploymentFactory(owner=engineer, foundation_model=model)
        deployment.status = "live"  # portfolio panels grow with live deployments
        deployment.save(update_fields=["status"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/")
    assert response.context["portfolio"]["concentration"]["live_deployments"] == 7
    assert len(response.context["awaiting"]) == 7


@pytest.mark.django_db
def test_engineer_dashboard_lists_own_reviews_to_finish(web, engineer, other_engineer):
    from fmgov.reviews.tests.factories import ready_review

    mine = ready_review(author=engineer)
    ready_review(author=other_engineer)
    response = web(engineer).get("/")
    assert [r.pk for r in response.context["my_reviews"]] == [mine.pk]
    page = response.content.decode()
    assert "My reviews to finish" in page and "Awaiting my sign-off" not in page


@pytest.mark.django_db
def test_dashboard_footprint_figures_group_thousands(web, engineer, reviewer):
    model = FoundationModelFactory(owner=engineer, training_energy_kwh=1_022_000, training_emissions_tco2e=1_234.5)
    deployment = DeploymentFactory(owner=engineer, foundation_model=model)
    deployment.status = "live"
    deployment.save(update_fields=["status"])
    html = web(reviewer).get("/").content.decode()
    assert "1,022,000 kWh, 1,234.5 tCO2e reported" in html
