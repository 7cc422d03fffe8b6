"""Retention: nothing goes before its period, after it only what no current approval binds; every purge audited."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from audits.models import AuditEvent
from fmgov.core.exceptions import InvalidInput, NotAllowed
from fmgov.evaluations.models import EvaluationRun, RunMetric
from fmgov.evaluations.services.evidence import evidence_link_create
from fmgov.evidence.models import Attachment
from fmgov.evidence.tests.factories import attach, pdf_bytes
from fmgov.incidents.tests.factories import open_incident
from fmgov.registry.tests.factories import DeploymentFactory
from fmgov.retention.conf import check_retention_settings
from fmgov.retention.services import purge_candidates, purge_expired
from fmgov.reviews.tests.factories import add_item, approve, ready_review
from reports import services as reports
from reports.models import Report
from reports.tests.factories import evaluation_history, make_deployment, make_model

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def later(days: int) -> dt.datetime:
    """A purge run this many days from now: records made now are that old then."""
    return timezone.now() + days * DAY


def test_runs_go_after_their_period_except_cited_ones_and_an_approved_deployments(engineer, admin_user, settings):
    settings.RETENTION_DAYS_RUNS = 400
    proposed = make_deployment(engineer, make_model(engineer, name="Old-LM"), name="old-bot")
    approved = make_deployment(engineer, make_model(engineer, name="Live-LM"), name="live-bot", status="live")
    _, (cited, plain, other, breach) = evaluation_history(
        proposed, actor=engineer, values=[{"mmlu:acc": 0.7}] * 3 + [{"mmlu:acc": 0.5}]
    )  # the last breaches >= 0.6: an open finding names it
    _, (bound,) = evaluation_history(approved, actor=engineer, values=[{"mmlu:acc": 0.7}])
    review = ready_review(author=engineer, deployment=proposed)
    evidence_link_create(actor=engineer, review_item=review.items.first(), run=cited)
    events_before = AuditEvent.objects.count()

    assert purge_expired(record_class="runs", actor=admin_user, now=later(399))["deleted"] == 0
    assert EvaluationRun.objects.count() == 5

    result = purge_expired(record_class="runs", actor=admin_user, now=later(401))
    assert (result["deleted"], result["deleted_ids"], result["kept_bound"]) == (2, sorted([plain.pk, other.pk]), 3)
    assert set(EvaluationRun.objects.values_list("pk", flat=True)) == {cited.pk, bound.pk, breach.pk}
    assert not RunMetric.objects.filter(run_id__in=[plain.pk, other.pk]).exists()
    event = AuditEvent.objects.filter(action="retention.purge").latest("seq")
    assert event.actor == admin_user and event.object_type == "retention.runs"
    assert (event.context["deleted"], event.context["kept_bound"], event.context["retention_days"]) == (2, 3, 400)
    assert event.context["deleted_ids"] == sorted([plain.pk, other.pk])
    # The trail is never purged: the deleted runs' own events are all still there, and two purges were added.
    assert AuditEvent.objects.filter(object_type="evaluations.evaluationrun", object_id=str(plain.pk)).exists()
    assert AuditEvent.objects.count() == events_before + 2


def test_reports_of_an_approved_deployment_stay_others_go_with_their_files(
    engineer, auditor, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(reports, "enqueue_on_commit", lambda task, *args: None)
    proposed = make_deployment(engineer, make_model(engineer, name="Gone-LM"), name="gone-bot")
    live = make_deployment(engineer, make_model(engineer, name="Kept-LM"), name="kept-bot", status="live")
    gone = reports.report_render(
        report_id=reports.report_request(actor=auditor, kind="deployment_dossier", deployment=proposed).pk
    )
    kept = reports.report_request(actor=auditor, kind="deployment_dossier", deployment=live)
    kept.state = "failed"
    kept.save(update_fields=["state"])
    assert gone.state == "succeeded" and default_storage.exists(gone.file.name)

    assert purge_candidates("reports", now=later(3651)) | {"cutoff": None} == {
        "record_class": "reports", "retention_days": 3650, "cutoff": None, "expired": [gone.pk],
        "kept_bound": [kept.pk],
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        result = purge_expired(record_class="reports", actor=admin_user, now=later(3651))
    assert result["deleted_ids"] == [gone.pk] and list(Report.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not default_storage.exists(gone.file.name)


def test_attachments_bound_by_a_sign_off_or_an_open_incident_stay(engineer, reviewer, other_reviewer, admin_user):
    draft = ready_review(author=engineer)
    first = attach(engineer, draft)
    second = attach(engineer, draft, content=pdf_bytes("second"))  # a revision superseding the first
    shared = attach(engineer, draft, name="copy.pdf", content=pdf_bytes("approved evidence"))
    approved = ready_review(author=engineer)
    signed = attach(engineer, approved, content=pdf_bytes("approved evidence"))  # same bytes as ``shared``
    add_item(approved, engineer, slug="privacy")
    from fmgov.reviews.services import review_submit

    approve(review_submit(review=approved, actor=engineer), reviewer, other_reviewer)
    incident = open_incident(engineer, deployments=[DeploymentFactory(owner=engineer)])
    on_incident = attach(engineer, incident, name="log.pdf", content=pdf_bytes("incident log"))

    result = purge_expired(record_class="attachments", actor=admin_user, now=later(3651))
    assert result["deleted_ids"] == sorted([first.pk, second.pk, shared.pk])
    assert set(Attachment.objects.values_list("pk", flat=True)) == {signed.pk, on_incident.pk}
    # Stored once by digest: the bytes the approved review still names are still there.
    assert default_storage.exists(signed.file.name) and shared.file.name == signed.file.name


def test_a_kept_revision_keeps_the_one_it_supersedes(engineer, admin_user, settings):
    settings.RETENTION_DAYS_ATTACHMENTS = 200
    draft = ready_review(author=engineer)
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - 300 * DAY):
        old = attach(engineer, draft)  # uploaded 300 days ago: past its period
        lone = attach(engineer, draft, name="other.pdf", content=pdf_bytes("lone"))
    new = attach(engineer, draft, content=pdf_bytes("new"))  # today, superseding it
    assert new.supersedes_id == old.pk
    # The new revision stays and points at the old one; a kept record is not changed to let another go.
    assert purge_candidates("attachments") | {"cutoff": None} == {
        "record_class": "attachments", "retention_days": 200, "cutoff": None, "expired": [lone.pk],
        "kept_bound": [old.pk],
    }  # fmt: skip
    assert purge_expired(record_class="attachments", actor=admin_user)["deleted_ids"] == [lone.pk]
    assert set(Attachment.objects.values_list("pk", flat=True)) == {old.pk, new.pk}


def test_only_admins_purge_and_a_short_period_is_refused(engineer, reviewer, admin_user):
    with pytest.raises(NotAllowed):
        purge_expired(record_class="runs", actor=reviewer)
    with pytest.raises(InvalidInput) as unknown:
        purge_expired(record_class="audit_trail", actor=admin_user)
    assert "runs, reports, attachments" in unknown.value.field_errors["record_class"][0]
    with override_settings(RETENTION_DAYS_REPORTS=90):
        errors = check_retention_settings()
        with pytest.raises(InvalidInput) as short:
            purge_expired(record_class="reports", actor=admin_user)
    assert [e.id for e in errors] == ["retention.E002"] and "at least 183 days" in errors[0].msg
    assert "below the 183 days" in str(short.value)
    assert not AuditEvent.objects.filter(action="retention.purge").exists()


def test_the_api_and_the_command_are_for_admins(client_for, engineer, admin_user, reviewer, capsys):
    deployment = make_deployment(engineer, make_model(engineer), name="api-bot")
    evaluation_history(deployment, actor=engineer, values=[{"mmlu:acc": 0.7}])
    listing = client_for(admin_user).get("/api/v1/retention/")
    assert listing.status_code == 200
    assert [(r["record_class"], r["setting"], r["retention_days"], r["expired"]) for r in listing.json()] == [
        ("runs", "RETENTION_DAYS_RUNS", 730, 0), ("reports", "RETENTION_DAYS_REPORTS", 3650, 0),
        ("attachments", "RETENTION_DAYS_ATTACHMENTS", 3650, 0),
    ]  # fmt: skip
    assert client_for(reviewer).get("/api/v1/retention/").status_code == 403
    assert client_for(reviewer).post("/api/v1/retention/purge/", {"record_class": "runs"}).status_code == 403
    bad = client_for(admin_user).post("/api/v1/retention/purge/", {"record_class": "audit"}, format="json")
    assert bad.status_code == 400 and "record_class" in bad.json()
    done = client_for(admin_user).post("/api/v1/retention/purge/", {"record_class": "runs"}, format="json")
    assert done.status_code == 200 and done.json()["deleted"] == 0  # nothing is past its period yet
    assert AuditEvent.objects.get(action="retention.purge").actor == admin_user

    call_command("purge_expired", "runs", "--actor", admin_user.username, "--dry-run")
    assert "0 past 730 days would be deleted" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Only admins"):
        call_command("purge_expired", "runs", "--actor", reviewer.username)
    call_command("purge_expired", "runs", "--actor", admin_user.username)
    assert "runs: deleted 0 older than 730 days" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="retention.purge").count() == 2


def test_documentation_files_up_to_the_submission_stay(engineer, admin_user):
    """A frozen version's exports list the field's files uploaded by its freeze: those stay; later drafts' go."""
    from fmgov.documentation.services import documentation_freeze
    from fmgov.documentation.tests.factories import documented_model
    from fmgov.evidence.services import DocumentationField

    record = documented_model(engineer)
    field = DocumentationField(record=record, field="architecture")
    submitted = attach(engineer, field, name="design.pdf")
    documentation_freeze(record=record, actor=engineer)
    draft = attach(engineer, field, name="next-draft.pdf", content=pdf_bytes("next draft"))
    unfrozen = attach(
        engineer, DocumentationField(record=documented_model(engineer), field="architecture"), name="x.pdf"
    )

    result = purge_expired(record_class="attachments", actor=admin_user, now=later(3651))
    assert result["deleted_ids"] == sorted([draft.pk, unfrozen.pk])
    assert list(Attachment.objects.values_list("pk", flat=True)) == [submitted.pk]
