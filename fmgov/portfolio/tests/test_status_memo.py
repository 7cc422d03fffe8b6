"""The deployment status events are read from the trail once per process, then only its new tail (issue 18)."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from audits.services import audit_record
from fmgov.portfolio import live_periods
from fmgov.portfolio.live_periods import forget_status_events, status_events
from fmgov.registry.tests.factories import DeploymentFactory

pytestmark = pytest.mark.django_db

CREATED = [(None, "proposed")]  # the creation event
LATER = timezone.now() + dt.timedelta(days=1)


def _status(deployment, old: str, new: str) -> None:
    audit_record(action="deployment.status", system="test", obj=deployment, changes={"status": [old, new]})


def _seen(deployment) -> list[tuple[str | None, str | None]]:
    return [(old, new) for _, old, new in status_events(LATER).get(deployment.pk, [])]


def test_only_the_new_tail_is_read_and_nothing_when_the_trail_did_not_move(engineer, django_assert_num_queries):
    deployment = DeploymentFactory(owner=engineer)
    _status(deployment, "proposed", "approved")
    forget_status_events()
    with django_assert_num_queries(2):  # the chain head, then the whole trail's status events
        assert _seen(deployment) == CREATED + [("proposed", "approved")]
    with django_assert_num_queries(2):  # the chain head has not moved: an empty tail
        assert _seen(deployment) == CREATED + [("proposed", "approved")]
    audit_record(action="something.else", system="test", object_type="x", object_id="1")
    _status(deployment, "approved", "live")
    with django_assert_num_queries(2):  # the chain head, then the checked tail
        assert _seen(deployment) == CREATED + [("proposed", "approved"), ("approved", "live")]


def test_an_event_after_the_period_end_is_not_in_it(engineer):
    deployment = DeploymentFactory(owner=engineer)
    _status(deployment, "approved", "live")
    assert _seen(deployment) == CREATED + [("approved", "live")]
    assert status_events(timezone.now() - dt.timedelta(days=1)).get(deployment.pk) is None


def test_a_rolled_back_status_change_is_forgotten(engineer):
    deployment = DeploymentFactory(owner=engineer)
    _status(deployment, "proposed", "approved")
    assert _seen(deployment) == CREATED + [("proposed", "approved")]
    with pytest.raises(RuntimeError), transaction.atomic():
        _status(deployment, "approved", "live")
        assert _seen(deployment)[-1] == ("approved", "live")  # read inside the transaction
        raise RuntimeError("roll back")
    _status(deployment, "approved", "retired")  # the same sequence number again, another hash
    assert _seen(deployment) == CREATED + [("proposed", "approved"), ("approved", "retired")]


def test_a_memo_of_another_trail_is_rebuilt_not_extended(engineer):
    deployment = DeploymentFactory(owner=engineer)
    _status(deployment, "proposed", "approved")
    assert _seen(deployment) == CREATED + [("proposed", "approved")]
    memo = live_periods._memo
    memo.hash = "0" * 64  # what a memo of another database (or a rewritten trail) looks like
    memo.changes.append((deployment.pk, (timezone.now(), "approved", "suspended")))
    _status(deployment, "approved", "live")
    assert _seen(deployment) == CREATED + [("proposed", "approved"), ("approved", "live")]


def test_edited_columns_of_a_status_event_do_not_move_the_live_periods(engineer):
    """An insider rewrites the changes and timestamp columns: the live periods follow the hashed bytes."""
    from audits.models import AuditEvent
    from audits.tests.test_chain import _tamper

    deployment = DeploymentFactory(owner=engineer)
    _status(deployment, "approved", "live")
    event = AuditEvent.objects.filter(action="deployment.status").latest("seq")
    forget_status_events()
    before = status_events(LATER)[deployment.pk]
    _tamper(
        "UPDATE audits_auditevent SET changes = %s, timestamp = %s WHERE seq = %s",
        ['{"status": ["approved", "retired"]}', timezone.now() - dt.timedelta(days=400), event.seq],
    )
    forget_status_events()
    assert status_events(LATER)[deployment.pk] == before
    assert before[-1][1:] == ("approved", "live") and before[-1][0] == event.timestamp
