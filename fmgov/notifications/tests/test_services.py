"""The e-mail ledger: one message per task message and recipient, even when the task runs again."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from fmgov.notifications.models import EmailDelivery
from fmgov.notifications.services import CLAIM_LEASE, email_send_once
from fmgov.reviews import tasks
from fmgov.reviews.tests.factories import submitted_review

pytestmark = pytest.mark.django_db

FLAKY = "fmgov.notifications.tests.test_services.RefusesBob"


class RefusesBob(LocmemBackend):
    """An SMTP server that drops the connection when it reaches bob."""

    def send_messages(self, messages):
        if any("bob@example.org" in m.to for m in messages):
            raise ConnectionResetError("connection reset by the SMTP server")
        return super().send_messages(messages)


def send(key="task-1", recipients=("alice@example.org", "bob@example.org", "carol@example.org")):
    return email_send_once(key=key, subject="[fmgov] Hello", body="Body.", recipients=recipients, task_name="t")


def test_one_message_each_and_each_recorded():
    assert send(recipients=["carol@example.org", "alice@example.org", "", "alice@example.org"]) == 2
    assert [m.to for m in mail.outbox] == [["alice@example.org"], ["carol@example.org"]]
    rows = EmailDelivery.objects.order_by("recipient")
    assert [(r.recipient, r.attempts, r.subject, r.task_name) for r in rows] == [
        ("alice@example.org", 1, "[fmgov] Hello", "t"),
        ("carol@example.org", 1, "[fmgov] Hello", "t"),
    ]
    assert all(r.sent_at is not None for r in rows)


def test_the_same_task_message_run_again_sends_nothing_more():
    assert send() == 3
    assert send() == 0
    assert len(mail.outbox) == 3
    assert send(key="task-2") == 3, "another task message is another notification"
    assert len(mail.outbox) == 6


def test_a_failed_send_is_retried_for_the_unsent_recipients_only(settings):
    settings.EMAIL_BACKEND = FLAKY
    with pytest.raises(ConnectionResetError):
        send()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    bob = EmailDelivery.objects.get(recipient="bob@example.org")
    assert bob.sent_at is None and bob.claimed_at is None and bob.attempts == 1, "the claim is released"
    assert not EmailDelivery.objects.filter(recipient="carol@example.org").exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send() == 2  # the retry: bob and carol, not alice again
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org", "carol@example.org"]
    assert EmailDelivery.objects.get(recipient="bob@example.org").attempts == 2


def test_a_claim_is_honoured_while_fresh_and_taken_over_once_stale():
    """A worker that died after claiming leaves a claim; another takes it over after the lease."""
    claimed = EmailDelivery.objects.create(key="task-1", recipient="alice@example.org", subject="s")
    EmailDelivery.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now(), attempts=1)
    assert send(recipients=["alice@example.org"]) == 0, "still being sent by a live worker"
    EmailDelivery.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - CLAIM_LEASE - timedelta(seconds=1))
    assert send(recipients=["alice@example.org"]) == 1
    assert EmailDelivery.objects.get(pk=claimed.pk).attempts == 2


def test_a_direct_call_without_a_task_id_always_sends():
    assert email_send_once(key=None, subject="s", body="b", recipients=["alice@example.org"]) == 1
    assert email_send_once(key=None, subject="s", body="b", recipients=["alice@example.org"]) == 1
    assert EmailDelivery.objects.count() == 2


def test_a_redelivered_notification_task_sends_once(engineer, reviewer, other_reviewer):
    """Through Celery's own request: ``apply`` with the same task id is what a redelivery looks like."""
    review = submitted_review(author=engineer)
    mail.outbox.clear()
    first = tasks.notify_reviewers_submitted.apply(args=[review.pk], task_id="redelivered-1")
    again = tasks.notify_reviewers_submitted.apply(args=[review.pk], task_id="redelivered-1")
    assert (first.get(), again.get()) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == ["ravi@example.org", "rita@example.org"]
    rows = EmailDelivery.objects.filter(key="redelivered-1")
    assert {r.task_name for r in rows} == {"fmgov.reviews.tasks.notify_reviewers_submitted"}
