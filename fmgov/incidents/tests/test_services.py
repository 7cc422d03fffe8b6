"""Incident services: the deadline per regime and category, the rules on input, who may open, confirm and suspend."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.evaluations.tests.factories import DeploymentFactory, FoundationModelFactory, adaptation_of
from fmgov.evaluations.tests.reviews_helpers import approved_review
from fmgov.incidents import services
from fmgov.incidents.conf import DEFAULT_DEADLINES
from fmgov.incidents.models import Incident
from fmgov.incidents.tests.factories import open_incident
from fmgov.registry.choices import DeploymentStatus
from fmgov.registry.services import deployment_go_live

pytestmark = pytest.mark.django_db

CASES = [(regime, category, rule) for regime, table in DEFAULT_DEADLINES.items() for category, rule in table.items()]
EXPECTED_DAYS = {
    ("high_risk_art73", "serious_incident"): (15, "Art. 73(2)"),
    ("high_risk_art73", "widespread_infringement"): (2, "Art. 73(3)"),
    ("high_risk_art73", "critical_infrastructure"): (2, "Art. 73(3)"),
    ("high_risk_art73", "death"): (10, "Art. 73(4)"),
    ("gpai_systemic_art55", "serious_harm"): (15, "Art. 55(1)(c)"),
    ("gpai_systemic_art55", "cybersecurity_breach"): (5, "Art. 55(1)(c)"),
    ("gpai_systemic_art55", "death"): (10, "Art. 55(1)(c)"),
    ("gpai_systemic_art55", "critical_infrastructure"): (2, "Art. 55(1)(c)"),
}


def test_every_configured_category_is_one_the_law_or_the_code_names():
    assert {(r, c) for r, c, _ in CASES} == set(EXPECTED_DAYS)


@pytest.mark.parametrize(("regime", "category"), sorted(EXPECTED_DAYS))
def test_the_deadline_follows_regime_and_category_from_awareness(engineer, regime, category):
    deployment = DeploymentFactory(owner=engineer)
    aware = timezone.now().replace(microsecond=0) - timedelta(hours=5)
    incident = open_incident(
        engineer,
        deployments=[deployment],
        regime=regime,
        harm_category=category,
        aware_at=aware,
        occurred_at=aware - timedelta(days=3),
    )
    days, article = EXPECTED_DAYS[(regime, category)]
    incident.refresh_from_db()
    assert incident.report_due_at == aware + timedelta(days=days)
    assert incident.deadline_days == days and article in incident.deadline_source
    event = AuditEvent.objects.get(action="incident.open")
    assert event.object_id == str(incident.pk) and event.changes["deployments"] == [None, [deployment.pk]]


def test_the_days_are_configuration(engineer, settings):
    settings.INCIDENT_DEADLINES = {"high_risk_art73": {"serious_incident": {"days": 7, "source": "Internal policy"}}}
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    assert incident.report_due_at == incident.aware_at + timedelta(days=7)
    assert incident.deadline_source == "Internal policy"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"aware_at": timezone.now() - timedelta(days=3), "occurred_at": timezone.now() - timedelta(days=1)},
            "aware_at",
        ),
        ({"aware_at": timezone.now() + timedelta(days=1)}, "aware_at"),
        ({"occurred_at": timezone.now() + timedelta(days=1)}, "occurred_at"),
        ({"harm_category": "death_by_paperwork"}, "harm_category"),
        ({"regime": "gpai_systemic_art55", "harm_category": "widespread_infringement"}, "harm_category"),
        ({"regime": "nuclear"}, "regime"),
        ({"summary": "   "}, "summary"),
    ],
)
def test_bad_input_names_its_field_and_writes_nothing(engineer, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)], **overrides)
    assert field in refused.value.field_errors
    assert not Incident.objects.exists() and not AuditEvent.objects.filter(action__startswith="incident.").exists()


def test_an_engineer_opens_only_on_their_own_deployments_and_never_suspends(engineer, other_engineer):
    theirs = DeploymentFactory(owner=other_engineer)
    mine = DeploymentFactory(owner=engineer)
    with pytest.raises(NotAllowed):
        open_incident(engineer, deployments=[mine, theirs])
    with pytest.raises(NotAllowed):
        open_incident(engineer, models=[theirs.foundation_model])
    with pytest.raises(NotAllowed, match="reviewer or admin"):
        open_incident(engineer, deployments=[mine], suspend=True)
    assert not Incident.objects.exists()
    incident = open_incident(engineer, deployments=[mine])
    with pytest.raises(NotAllowed):
        services.incident_confirm(incident=incident, actor=engineer)
    with pytest.raises(NotAllowed):
        services.incident_update(incident=incident, actor=other_engineer, root_cause="Someone else's guess")


def _lineage_live(owner, other, reviewer, admin):
    """Model M (owner's) <- adaptation A (other's); a live deployment of each, approved; an unrelated one."""
    model = FoundationModelFactory(owner=owner)
    child = adaptation_of(model, other)
    deployments = {
        "mine": DeploymentFactory(owner=owner, foundation_model=model),
        "downstream": DeploymentFactory(owner=other, foundation_model=None, adaptation=child),
        "unrelated": DeploymentFactory(owner=other),
    }
    for deployment in deployments.values():
        approved_review(deployment=deployment, author=deployment.owner, reviewer=reviewer)
        deployment_go_live(deployment=deployment, actor=deployment.owner)
    return deployments


def test_an_engineers_incident_suspends_nothing_until_a_reviewer_confirms_it(
    engineer, other_engineer, reviewer, admin_user
):
    deployments = _lineage_live(engineer, other_engineer, reviewer, admin_user)
    incident = open_incident(engineer, deployments=[deployments["mine"]])
    statuses = {name: d.__class__.objects.get(pk=d.pk).status for name, d in deployments.items()}
    assert set(statuses.values()) == {DeploymentStatus.LIVE}
    services.incident_confirm(incident=incident, actor=reviewer)
    for name, deployment in deployments.items():
        deployment.refresh_from_db()
        expected = DeploymentStatus.LIVE if name == "unrelated" else DeploymentStatus.SUSPENDED
        assert deployment.status == expected, name
        review = deployment.risk_reviews.order_by("-pk").first()
        assert review.state == ("approved" if name == "unrelated" else "revoked"), name
    confirm = AuditEvent.objects.get(action="incident.confirm")
    assert confirm.actor_username == reviewer.username
    assert confirm.context["suspended_deployments"] == sorted([deployments["mine"].pk, deployments["downstream"].pk])
    assert len(confirm.context["revoked_reviews"]) == 2
    revokes = AuditEvent.objects.filter(action="review.revoke")
    assert revokes.count() == 2 and all(e.actor_system == services.SYSTEM for e in revokes)
    with pytest.raises(TransitionNotAllowed):
        services.incident_confirm(incident=incident, actor=admin_user)


def test_a_reviewer_opening_with_suspend_confirms_at_once(engineer, other_engineer, reviewer, admin_user):
    deployments = _lineage_live(engineer, other_engineer, reviewer, admin_user)
    incident = open_incident(reviewer, deployments=[deployments["downstream"]], suspend=True)
    assert incident.confirmed_by == reviewer
    for name, deployment in deployments.items():
        deployment.refresh_from_db()
        assert deployment.status == (DeploymentStatus.SUSPENDED if name == "downstream" else DeploymentStatus.LIVE)


def test_the_workflow_needs_a_report_date_and_a_root_cause_to_close(engineer):
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    with pytest.raises(TransitionNotAllowed):
        services.incident_close(incident=incident, actor=engineer)
    with pytest.raises(InvalidInput, match="aware"):
        services.incident_report(incident=incident, actor=engineer, reported_at=incident.aware_at - timedelta(hours=1))
    incident = services.incident_report(incident=incident, actor=engineer)
    assert incident.status == "reported" and incident.reported_at is not None
    incident = services.incident_follow_up(incident=incident, actor=engineer)
    with pytest.raises(InvalidInput) as refused:
        services.incident_close(incident=incident, actor=engineer)
    assert set(refused.value.field_errors) == {"root_cause", "corrective_measures"}
    services.incident_update(
        incident=incident, actor=engineer, root_cause="Unit confusion", corrective_measures="Guard"
    )
    incident = services.incident_close(incident=incident, actor=engineer)
    assert incident.status == "closed"
    actions = list(AuditEvent.objects.filter(action__startswith="incident.").values_list("action", flat=True))
    assert actions == ["incident.open", "incident.report", "incident.follow_up", "incident.update", "incident.close"]
    with pytest.raises(TransitionNotAllowed):
        services.incident_update(incident=incident, actor=engineer, summary="Rewritten")


def test_a_later_awareness_moves_the_deadline_and_is_audited(engineer):
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)], aware_ago=timedelta(days=2))
    later = incident.aware_at + timedelta(days=1)
    incident = services.incident_update(incident=incident, actor=engineer, aware_at=later, harm_category="death")
    assert incident.report_due_at == later + timedelta(days=10)
    event = AuditEvent.objects.get(action="incident.update")
    assert set(event.changes) >= {"aware_at", "harm_category", "report_due_at", "deadline_days", "deadline_source"}
