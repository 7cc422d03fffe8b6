"""Recording an event and locking a governance row, in either order, never deadlocks on PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction

from audits.selectors import verify_chain
from audits.services import audit_record
from fmgov.registry.models import Deployment
from fmgov.registry.tests.factories import DeploymentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_event_then_row_against_row_then_event(engineer):
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections are PostgreSQL's")
    deployment = DeploymentFactory(owner=engineer)
    both_inside = threading.Barrier(2, timeout=3)
    errors: list[BaseException] = []

    def event_then_row() -> None:
        try:
            with transaction.atomic():
                audit_record(action="test.first", system="t1")
                both_inside.wait()
                Deployment.objects.select_for_update().get(pk=deployment.pk)
        except threading.BrokenBarrierError:
            pass  # the other thread is already waiting on the head: the order is enforced
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def row_then_event() -> None:
        try:
            with transaction.atomic():
                Deployment.objects.select_for_update().get(pk=deployment.pk)
                both_inside.wait()
                audit_record(action="test.second", system="t2")
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=event_then_row), threading.Thread(target=row_then_event)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors  # a deadlock would surface here as DeadlockDetected
    assert verify_chain().ok
