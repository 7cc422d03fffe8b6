"""A rolled-back request or transaction sends no task; a committed one sends exactly one."""

import uuid

import pytest
from celery.signals import after_task_publish
from django.db import transaction
from django.http import HttpResponse
from django.test import RequestFactory

from fmgov.celery import app
from fmgov.core.tasks_util import enqueue_on_commit

# A queue that no worker consumes, so the messages stay in the broker to be counted.
QUEUE = f"fmgov-test-enqueue-{uuid.uuid4().hex[:8]}"


@app.task(name="tests.reliability.enqueue_probe", queue=QUEUE, ignore_result=True)
def enqueue_probe(marker):  # pragma: no cover - never executed: nobody consumes QUEUE
    return marker


@pytest.fixture
def published():
    sent = []

    def _record(sender=None, headers=None, body=None, **kwargs):
        if sender == enqueue_probe.name:
            sent.append(body[0][0] if body and body[0] else None)

    after_task_publish.connect(_record, weak=False)
    yield sent
    after_task_publish.disconnect(_record)


def _drain() -> int:
    """Remove and count the messages waiting in QUEUE on the real broker."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        try:
            return channel.queue_purge(QUEUE) or 0
        except Exception:
            return 0


@pytest.fixture(autouse=True)
def empty_queue():
    _drain()
    yield
    _drain()


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing(published):
    with pytest.raises(Boom), transaction.atomic():
        enqueue_on_commit(enqueue_probe, "rolled-back")
        raise Boom
    assert published == []
    assert _drain() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_transaction_sends_exactly_once(published):
    with transaction.atomic():
        enqueue_on_commit(enqueue_probe, "committed")
        assert published == [], "sent before the commit: a worker could read rows that may still roll back"
    assert published == ["committed"]
    assert _drain() == 1


@pytest.mark.django_db(transaction=True)
def test_nested_savepoint_rollback_drops_its_task_only(published):
    with transaction.atomic():
        enqueue_on_commit(enqueue_probe, "outer")
        with pytest.raises(Boom), transaction.atomic():
            enqueue_on_commit(enqueue_probe, "inner")
            raise Boom
    assert published == ["outer"]
    assert _drain() == 1


@transaction.atomic
def _view_that_fails(request):
    enqueue_on_commit(enqueue_probe, "request")
    raise Boom("the view fails after enqueueing")


@transaction.atomic
def _view_that_succeeds(request):
    enqueue_on_commit(enqueue_probe, "request")
    return HttpResponse("ok")


@pytest.mark.django_db(transaction=True)
def test_rolled_back_request_sends_nothing_and_committed_request_one(published):
    request = RequestFactory().post("/anything/")
    with pytest.raises(Boom):
        _view_that_fails(request)
    assert published == []
    assert _view_that_succeeds(request).status_code == 200
    assert published == ["request"]
    assert _drain() == 1
