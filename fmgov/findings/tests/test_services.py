"""The finding workflow: open (idempotent by key), acknowledge, resolve; audited in the same transaction; who may."""

from unittest import mock

import pytest

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from fmgov.findings import selectors, services
from fmgov.findings.models import Finding
from fmgov.findings.tests.factories import open_finding
from fmgov.registry.tests.factories import FoundationModelFactory

pytestmark = pytest.mark.django_db


def events(finding: Finding) -> list[str]:
    rows = AuditEvent.objects.filter(object_type="findings.finding", object_id=str(finding.pk)).order_by("seq")
    return list(rows.values_list("action", flat=True))


def test_open_records_subject_detail_and_its_event(engineer):
    model = FoundationModelFactory(owner=engineer, name="Alpha")
    finding, created = services.finding_open(
        source="portfolio", subject=model, title="Single point of failure: Alpha", detail={"value": 0.5}
    )
    assert created and finding.subject == model and finding.subject_label == str(model)
    assert (finding.state, finding.severity, finding.detail) == ("open", "high", {"value": 0.5})
    event = AuditEvent.objects.get(action="finding.open")
    assert event.object_id == str(finding.pk) and event.changes["subject"] == [
        None,
        f"registry.foundationmodel:{model.pk}",
    ]
    assert list(selectors.findings_about(model)) == [finding]


def test_open_without_its_audit_event_writes_nothing():
    trail_down = mock.patch("fmgov.findings.services.audit_record", side_effect=RuntimeError("trail down"))
    with trail_down, pytest.raises(RuntimeError):
        services.finding_open(source="witness", title="Witness stale")
    assert not Finding.objects.exists()


def test_open_refuses_bad_input_per_field():
    with pytest.raises(InvalidInput) as refused:
        services.finding_open(source="rumour", severity="apocalyptic", title=" ")
    assert set(refused.value.field_errors) == {"source", "severity", "title"}


def test_dedupe_key_opens_once_until_resolved(reviewer):
    first = open_finding(key="portfolio:concentration:x")
    again, created = services.finding_open(source="portfolio", title="Again", dedupe_key="portfolio:concentration:x")
    assert again == first and not created and Finding.objects.count() == 1
    services.finding_resolve(finding=first, actor=reviewer, note="Diversified.")
    reopened = open_finding(key="portfolio:concentration:x")
    assert reopened != first and selectors.active_finding_count(source="portfolio") == 1


def test_transitions_follow_the_table_each_with_its_event(reviewer):
    finding = open_finding()
    finding = services.finding_acknowledge(finding=finding, actor=reviewer, note="Looking.")
    assert (finding.state, finding.acknowledged_by, finding.acknowledgement_note) == (
        "acknowledged",
        reviewer,
        "Looking.",
    )
    with pytest.raises(TransitionNotAllowed):
        services.finding_acknowledge(finding=finding, actor=reviewer)
    finding = services.finding_resolve(finding=finding, actor=reviewer, note="Fixed.")
    assert (finding.state, finding.resolved_by, finding.note) == ("resolved", reviewer, "Fixed.")
    with pytest.raises(TransitionNotAllowed):
        services.finding_resolve(finding=finding, actor=reviewer, note="Again.")
    assert events(finding) == ["finding.open", "finding.acknowledge", "finding.resolve"]
    assert AuditEvent.objects.filter(action="finding.resolve").get().changes["state"] == ["acknowledged", "resolved"]


def test_an_open_finding_may_be_resolved_directly(admin_user):
    finding = services.finding_resolve(finding=open_finding(), actor=admin_user, note="Not a risk.")
    assert finding.state == "resolved" and finding.acknowledged_at is None


def test_a_transition_whose_event_fails_leaves_the_finding_as_it_was(reviewer):
    finding = open_finding()
    trail_down = mock.patch("fmgov.findings.services.audit_record", side_effect=RuntimeError("trail down"))
    with trail_down, pytest.raises(RuntimeError):
        services.finding_acknowledge(finding=finding, actor=reviewer)
    finding.refresh_from_db()
    assert finding.state == "open" and finding.acknowledged_by is None


def test_who_may_acknowledge_and_resolve(engineer, other_engineer, reviewer, auditor):
    finding = open_finding(subject=FoundationModelFactory(owner=engineer))
    for outsider in (other_engineer, auditor):
        with pytest.raises(NotAllowed):
            services.finding_acknowledge(finding=finding, actor=outsider)
    services.finding_acknowledge(finding=finding, actor=engineer, note="Mine; on it.")  # the subject's owner
    for not_the_board in (engineer, auditor):
        with pytest.raises(NotAllowed):
            services.finding_resolve(finding=finding, actor=not_the_board, note="done")
    with pytest.raises(InvalidInput) as refused:
        services.finding_resolve(finding=finding, actor=reviewer, note="  ")
    assert "note" in refused.value.field_errors
    assert services.finding_resolve(finding=finding, actor=reviewer, note="Second provider.").state == "resolved"


def test_a_finding_without_subject_is_the_board_s_alone(engineer, reviewer):
    finding = open_finding(title="Provider HHI above the alert threshold")
    with pytest.raises(NotAllowed):
        services.finding_acknowledge(finding=finding, actor=engineer)
    assert services.finding_acknowledge(finding=finding, actor=reviewer).state == "acknowledged"
