"""A live model with owed documentation missing opens a finding, dated by Art. 111(3), under a frozen clock."""

from contextlib import contextmanager
from datetime import datetime
from unittest import mock

import pytest
from django.utils import timezone

from audits.models import AuditEvent
from fmgov.core.schedules import builtin_schedule
from fmgov.documentation import services, tasks
from fmgov.documentation.obligations import documentation_obligations_check
from fmgov.documentation.tests.factories import COMPLETE_PROVIDER_FIELDS
from fmgov.evaluations.tests.reviews_helpers import approved_review
from fmgov.findings.models import Finding
from fmgov.registry.services import deployment_go_live
from fmgov.registry.tests.factories import DeploymentFactory, FoundationModelFactory

pytestmark = pytest.mark.django_db


def at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day}T09:00:00"), timezone.get_default_timezone())


@contextmanager
def frozen(day: str):
    with mock.patch("django.utils.timezone.now", return_value=at(day)):
        yield


def live_model(owner, reviewer, *, since: str):
    model = FoundationModelFactory(owner=owner)
    deployment = DeploymentFactory(owner=owner, foundation_model=model)
    approved_review(deployment=deployment, author=owner, reviewer=reviewer)
    with frozen(since):
        deployment_go_live(deployment=deployment, actor=owner)
    return model, deployment


def check_on(day: str) -> dict:
    with frozen(day):
        return documentation_obligations_check()


def test_a_model_on_the_market_before_august_2025_owes_its_documentation_from_august_2027(engineer, reviewer):
    model, deployment = live_model(engineer, reviewer, since="2025-06-01")
    assert check_on("2027-08-01") == {"checked": 1, "complete": 0, "not_yet_owed": 1, "opened": 0, "already_open": 0}
    assert not Finding.objects.exists()
    assert check_on("2027-08-02")["opened"] == 1
    finding = Finding.objects.get()
    assert finding.source == "documentation" and finding.subject == model and finding.state == "open"
    assert finding.detail["obligation_applies_from"] == "2027-08-02"
    assert finding.detail["legal_basis"].startswith("Art. 111(3)")
    assert finding.detail["deployments"] == [deployment.pk] and finding.detail["record"] is None
    assert "owed since 2027-08-02" in finding.title and "licence" in finding.detail["missing"]
    event = AuditEvent.objects.get(action="finding.open")
    assert event.actor_system == "fmgov.documentation"
    assert check_on("2027-08-03")["already_open"] == 1 and Finding.objects.count() == 1


def test_a_model_placed_later_owes_it_from_its_market_date_and_complete_documentation_opens_nothing(engineer, reviewer):
    model, _ = live_model(engineer, reviewer, since="2026-03-10")
    record = services.documentation_create(target=model, actor=engineer, fields={"eu_market_date": "2026-02-01"})
    assert check_on("2026-01-31")["not_yet_owed"] == 1
    assert check_on("2026-02-01")["opened"] == 1
    finding = Finding.objects.get()
    assert finding.detail["obligation_applies_from"] == "2026-02-01" and finding.detail["record"] == record.pk
    assert finding.detail["legal_basis"].startswith("Art. 53(1)")
    other, _ = live_model(engineer, reviewer, since="2026-03-10")
    services.documentation_create(target=other, actor=engineer, role="provider", fields=COMPLETE_PROVIDER_FIELDS)
    counts = check_on("2026-04-01")
    assert counts["complete"] == 1 and counts["already_open"] == 1 and Finding.objects.count() == 1


def test_the_check_is_a_daily_beat_task(engineer, reviewer):
    schedule = builtin_schedule("Model documentation: findings for deployed models with required fields missing")
    assert schedule is not None and schedule.task == tasks.documentation_obligations.name
    assert schedule.crontab == "40 3 * * *"
    live_model(engineer, reviewer, since="2026-01-05")
    with frozen("2026-01-06"):
        assert tasks.documentation_obligations.apply().get()["opened"] == 1
