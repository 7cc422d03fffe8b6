"""An exception after the audit insert leaves neither the change nor the event."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from audits.models import AuditEvent, ChainHead
from audits.selectors import verify_chain
from audits.services import AuditOutsideTransaction, audit_record


class Boom(Exception):
    pass


def _head():
    head = ChainHead.objects.filter(pk=1).first()
    return (head.seq, head.hash) if head else None


def _service_that_fails_after_audit(username: str):
    """The service shape every app uses: change, audit event, then something raises."""
    with transaction.atomic():
        user = get_user_model().objects.create(username=username)
        audit_record(action="user.create", obj=user, changes={"username": [None, username]})
        raise Boom("after the audit insert")


@pytest.mark.django_db(transaction=True)
def test_exception_after_audit_insert_leaves_neither_change_nor_event():
    with transaction.atomic():
        audit_record(action="test.baseline", object_type="test", object_id="0")
    before_events, before_head = AuditEvent.objects.count(), _head()

    with pytest.raises(Boom):
        _service_that_fails_after_audit("ghost")

    assert not get_user_model().objects.filter(username="ghost").exists()
    assert AuditEvent.objects.count() == before_events
    assert not AuditEvent.objects.filter(action="user.create").exists()
    assert _head() == before_head, "the chain head moved for an event that was rolled back"

    # The next append chains from the surviving head: no gap, no fork.
    with transaction.atomic():
        event = audit_record(action="test.after", object_type="test", object_id="1")
    assert event.seq == before_head[0] + 1
    assert event.prev_hash == before_head[1]
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_inner_savepoint_rollback_drops_only_its_event():
    with transaction.atomic():
        audit_record(action="test.outer", object_type="test", object_id="outer")
        with pytest.raises(Boom):
            _service_that_fails_after_audit("ghost2")
        audit_record(action="test.outer.after", object_type="test", object_id="outer")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["test.outer", "test.outer.after"]
    assert not get_user_model().objects.filter(username="ghost2").exists()
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(AuditOutsideTransaction):
        audit_record(action="test.autocommit", object_type="test", object_id="x")
    assert AuditEvent.objects.count() == 0
