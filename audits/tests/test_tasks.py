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
