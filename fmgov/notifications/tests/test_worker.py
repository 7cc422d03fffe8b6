"""One notification message delivered three times at once to a real worker: each recipient gets one e-mail."""

import email

import pytest

from fmgov.core.testing.worker import start_worker, wait_for
from fmgov.notifications.backends import OUTBOX_BACKEND
from fmgov.notifications.models import EmailDelivery
from fmgov.reviews import tasks
from fmgov.reviews.tests.factories import submitted_review

QUEUE = "notifications-thrice"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_duplicate_deliveries_send_each_recipient_one_email(tmp_path, make_user):
    engineer = make_user("erin", "engineer")
    make_user("rita", "reviewer")
    make_user("ravi", "reviewer")
    review = submitted_review(author=engineer)
    outbox = tmp_path / "outbox"
    worker = start_worker(
        queues=[QUEUE],
        concurrency=3,
        extra_env={
            "FMGOV_TEST_EMAIL_BACKEND": OUTBOX_BACKEND,
            "FMGOV_TEST_EMAIL_FILE_PATH": str(outbox),
        },
    )
    try:
        for _ in range(3):
            tasks.notify_reviewers_submitted.apply_async(args=[review.pk], task_id="dup-1", queue=QUEUE)
        wait_for(lambda: worker.output().count("succeeded in") >= 3, timeout=60, message="three deliveries")
    finally:
        worker.stop()
    log = worker.output()
    assert log.count("Task fmgov.reviews.tasks.notify_reviewers_submitted[dup-1] succeeded") == 3, log

    messages = [email.message_from_bytes(f.read_bytes()) for f in sorted(outbox.glob("*.eml"))]
    assert sorted(m["To"] for m in messages) == ["ravi@example.org", "rita@example.org"]
    assert all(f"risk review #{review.pk}" in m["Subject"] for m in messages)
    rows = EmailDelivery.objects.filter(key="dup-1")
    assert sorted((r.recipient, r.attempts, r.sent_at is not None) for r in rows) == [
        ("ravi@example.org", 1, True),
        ("rita@example.org", 1, True),
    ]
