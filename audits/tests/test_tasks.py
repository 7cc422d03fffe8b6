"""The checkpoint task through a real Celery worker process and the configured broker."""

import pytest

from audits.models import Checkpoint
from audits.selectors import verify_chain
from audits.tasks import checkpoint_audit_trail
from audits.tests.factories import record_events
from fmgov.core.testing.worker import wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_checkpoint_task_runs_on_a_real_worker(celery_worker):
    events = record_events(3)
    result = checkpoint_audit_trail.delay()
    assert result.get(timeout=60) == events[-1].seq
    checkpoint = wait_for(lambda: Checkpoint.objects.filter(seq=events[-1].seq).first(), message="checkpoint row")
    assert checkpoint.head_hash == events[-1].hash
    assert verify_chain().ok


@pytest.mark.django_db
def test_the_daily_exact_check_is_scheduled_and_opens_one_finding_for_an_edited_signed_column(engineer):
    """The beat row exists after migrate; an edit under a checkpoint is named once, however often the task runs."""
    from django_celery_beat.models import PeriodicTask

    from audits.services import checkpoint_create
    from audits.tasks import check_audit_trail_exactly
    from audits.tests.test_chain import _tamper
    from fmgov.findings.models import Finding

    task = PeriodicTask.objects.get(task="audits.tasks.check_audit_trail_exactly")
    assert (task.crontab.minute, task.crontab.hour) == ("17", "3") and task.enabled
    events = record_events(3, actor=engineer)
    checkpoint_create()
    assert check_audit_trail_exactly() is True and not Finding.objects.filter(source="audit_trail").exists()
    _tamper("UPDATE audits_auditevent SET object_id = %s WHERE seq = %s", ["elsewhere", events[1].seq])
    assert verify_chain().ok  # signed: the default verification trusts what the signer checked
    assert check_audit_trail_exactly() is False and check_audit_trail_exactly() is False
    finding = Finding.objects.get(source="audit_trail")
    assert finding.severity == "critical" and finding.detail["first_bad_seq"] == events[1].seq
    assert "object_id column" in finding.detail["reason"]
