"""Concentration of power: shares, HHI, bands, single points of failure, findings."""

import pytest

from audits.models import AuditEvent
from fmgov.findings.models import Finding
from fmgov.findings.services import finding_resolve
from fmgov.portfolio.selectors import concentration
from fmgov.portfolio.services import portfolio_check, portfolio_settings_update
from fmgov.portfolio.tests.factories import build_portfolio, set_status
from fmgov.registry.tests.factories import DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def test_shares_hhi_and_single_points_of_failure(engineer):
    p = build_portfolio(engineer)
    report = concentration()
    # a1: d1 + d4/2 + d5/2 = 2; a2: d2 = 1; b1: d3 + d4/2 + d5/2 = 2.  A = 3/5, B = 2/5.
    assert report["live_deployments"] == 5
    assert report["providers"] == [
        {"provider": "Provider A", "deployments": 3.0, "share": 0.6},
        {"provider": "Provider B", "deployments": 2.0, "share": 0.4},
    ]
    assert report["hhi"] == pytest.approx(60**2 + 40**2)
    assert report["band"] == "highly_concentrated"
    by_model = {row["foundation_model"]: row for row in report["models"]}
    assert by_model[p.a1.pk]["deployments"] == 2.0 and by_model[p.a1.pk]["dependent_deployments"] == 3
    assert by_model[p.a2.pk]["deployments"] == 1.0 and by_model[p.a2.pk]["share"] == 0.2
    assert by_model[p.b1.pk]["deployments"] == 2.0
    assert p.c1.pk not in by_model, "non-live deployments are excluded"
    spof = {row["foundation_model"]: row for row in report["single_points_of_failure"]}
    assert set(spof) == {p.a1.pk, p.b1.pk}
    assert spof[p.a1.pk]["deployments_at_risk"] == 3 and spof[p.a1.pk]["share_at_risk"] == 0.6


def test_environment_filter(engineer):
    build_portfolio(engineer)
    report = concentration("production")
    # d3 (b1) is staging: a1 = 2, a2 = 1, b1 = 1 -> A 3/4, B 1/4.
    assert report["live_deployments"] == 4
    assert [(r["provider"], r["share"]) for r in report["providers"]] == [("Provider A", 0.75), ("Provider B", 0.25)]
    assert report["hhi"] == pytest.approx(75**2 + 25**2)
    assert concentration("development")["live_deployments"] == 0
    assert concentration("development")["hhi"] == 0 and concentration("development")["band"] == "unconcentrated"


@pytest.mark.parametrize(
    ("providers", "band"),
    [(10, "unconcentrated"), (5, "moderately_concentrated"), (2, "highly_concentrated")],
)
def test_bands(engineer, providers, band):
    for i in range(providers):
        model = FoundationModelFactory(owner=engineer, provider=f"P{i}")
        set_status(DeploymentFactory(owner=engineer, foundation_model=model), "live")
    report = concentration()
    assert report["hhi"] == pytest.approx(10000 / providers)
    assert report["band"] == band


def test_thresholds_are_admin_configurable_and_audited(engineer, admin_user):
    build_portfolio(engineer)
    portfolio_settings_update(actor=admin_user, hhi_alert_threshold=6000, single_point_of_failure_share=0.6)
    report = concentration()
    assert report["alert"] is False and report["alert_threshold"] == 6000
    assert report["single_points_of_failure"] == [], "0.6 is not above 0.6"
    event = AuditEvent.objects.get(action="portfolio.settings_update")
    assert event.changes["hhi_alert_threshold"] == [2500.0, 6000]


def test_settings_validation_and_roles(engineer, admin_user, client_for):
    response = client_for(admin_user).patch(
        "/api/v1/portfolio/settings/", {"hhi_alert_threshold": 20000, "single_point_of_failure_share": -1}
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"hhi_alert_threshold", "single_point_of_failure_share"}
    assert client_for(engineer).patch("/api/v1/portfolio/settings/", {"hhi_alert_threshold": 100}).status_code == 403
    assert not AuditEvent.objects.filter(action="portfolio.settings_update").exists()
    ok = client_for(admin_user).patch("/api/v1/portfolio/settings/", {"hhi_alert_threshold": 100})
    assert ok.status_code == 200 and ok.json()["hhi_alert_threshold"] == 100


def test_check_opens_findings_once_with_audit_events(engineer, reviewer, django_capture_on_commit_callbacks):
    p = build_portfolio(engineer)
    with django_capture_on_commit_callbacks() as callbacks:
        opened = portfolio_check()
    assert len(callbacks) == 1, "one notification task, enqueued on commit"
    kinds = sorted((f.detail["kind"], f.subject_label) for f in opened)
    assert kinds == [
        ("concentration", "provider HHI (highly_concentrated)"),
        ("single_point_of_failure", "Alpha 1"),
        ("single_point_of_failure", "Beta 1"),
    ]
    assert {f.subject for f in opened if f.detail["kind"] == "single_point_of_failure"} == {p.a1, p.b1}
    assert {f.source for f in opened} == {"portfolio"}
    assert AuditEvent.objects.filter(action="finding.open", object_type="findings.finding").count() == 3
    from django.core import mail

    from fmgov.portfolio.tasks import notify_portfolio_findings

    assert notify_portfolio_findings([f.pk for f in opened]) == 1
    assert len(mail.outbox) == 1 and "Alpha 1" in mail.outbox[0].body
    assert mail.outbox[0].to == ["rita@example.org"]
    assert portfolio_check() == [], "an open finding is not opened again"
    finding = Finding.objects.get(subject_label="Alpha 1")
    finding_resolve(finding=finding, actor=reviewer, note="second provider added")
    assert [f.subject_label for f in portfolio_check()] == ["Alpha 1"], (
        "a resolved finding re-opens if the risk remains"
    )


def test_concentration_api(engineer, auditor, client_for, django_assert_max_num_queries):
    build_portfolio(engineer)
    client = client_for(auditor)
    body = client.get("/api/v1/portfolio/concentration/").json()
    assert set(body) >= {"hhi", "band", "providers", "models", "single_points_of_failure"}
    assert body["hhi"] == pytest.approx(5200)
    assert client.get("/api/v1/portfolio/concentration/", {"environment": "moon"}).status_code == 400
    assert client.get("/api/v1/portfolio/concentration/", {"environment": "staging"}).json()["hhi"] == 10000


def test_concentration_query_count_is_constant(engineer, auditor, client_for, django_assert_num_queries):
    client = client_for(auditor)
    build_portfolio(engineer)
    with django_assert_num_queries(6) as small:
        client.get("/api/v1/portfolio/concentration/")
    for i in range(15):
        model = FoundationModelFactory(owner=engineer, provider=f"Extra {i % 4}")
        set_status(DeploymentFactory(owner=engineer, foundation_model=model), "live")
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/api/v1/portfolio/concentration/")


def test_finding_transitions(engineer, reviewer, client_for):
    build_portfolio(engineer)
    opened = portfolio_check()
    finding = opened[0]
    assert client_for(engineer).post(f"/api/v1/portfolio/findings/{finding.pk}/acknowledge/").status_code == 403
    ok = client_for(reviewer).post(f"/api/v1/portfolio/findings/{finding.pk}/acknowledge/", {"note": "seen"})
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
    again = client_for(reviewer).post(f"/api/v1/portfolio/findings/{finding.pk}/acknowledge/")
    assert again.status_code == 409 and "cannot become" in again.json()["detail"]
    listed = client_for(engineer).get("/api/v1/portfolio/findings/", {"status": "acknowledged"}).json()
    assert [row["id"] for row in listed["results"]] == [finding.pk]


def test_findings_api_keeps_the_portfolio_shape(engineer, reviewer, auditor, client_for, django_assert_max_num_queries):
    p = build_portfolio(engineer)
    portfolio_check()
    client = client_for(auditor)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/v1/portfolio/findings/", {"ordering": "-value"}).json()["results"]
    assert [r["kind"] for r in rows] == ["concentration", "single_point_of_failure", "single_point_of_failure"]
    spof = next(r for r in rows if r["subject"] == "Alpha 1")
    assert spof["foundation_model"] == p.a1.pk and spof["status"] == "open" and spof["source"] == "portfolio"
    assert set(spof) >= {"id", "value", "threshold", "details", "note", "created_at", "updated_at", "title"}
    assert client.get("/api/v1/portfolio/findings/", {"kind": "concentration"}).json()["count"] == 1
    # The owner of the model at risk may acknowledge it (they have to act); resolving is the board's, with a note.
    ack = client_for(engineer).post(f"/api/v1/portfolio/findings/{spof['id']}/acknowledge/", {"note": "on it"})
    assert ack.status_code == 200 and ack.json()["note"] == "on it"
    assert (
        client_for(engineer).post(f"/api/v1/portfolio/findings/{spof['id']}/resolve/", {"note": "x"}).status_code == 403
    )
    assert client_for(reviewer).post(f"/api/v1/portfolio/findings/{spof['id']}/resolve/").status_code == 400
    done = client_for(reviewer).post(f"/api/v1/portfolio/findings/{spof['id']}/resolve/", {"note": "second provider"})
    assert done.json()["status"] == "resolved" and done.json()["resolved_by"] == reviewer.username
