"""One notification message delivered three times at once to a real worker: each recipient gets one e-mail."""

import email
from pathlib import Path

import pytest

from fmgov.core.testing.worker import start_worker, wait_for
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
            "FMGOV_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
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

    messages = [email.message_from_string(m) for f in sorted(outbox.iterdir()) for m in _messages(f)]
    assert sorted(m["To"] for m in messages) == ["ravi@example.org", "rita@example.org"]
    assert all(f"risk review #{review.pk}" in m["Subject"] for m in messages)
    rows = EmailDelivery.objects.filter(key="dup-1")
    assert sorted((r.recipient, r.attempts, r.sent_at is not None) for r in rows) == [
        ("ravi@example.org", 1, True),
        ("rita@example.org", 1, True),
    ]


def _messages(path: Path) -> list[str]:
    """The file backend writes each message followed by a line of 79 dashes."""
    return [m.strip() for m in path.read_text().split("-" * 79) if m.strip()]
