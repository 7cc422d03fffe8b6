"""Notifications and the daily expiry sweep: what is enqueued, where it is routed, what is sent."""

from datetime import timedelta

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from audits.models import AuditEvent
from fmgov.celery import app
from fmgov.core.testing.worker import wait_for
from fmgov.registry.choices import DeploymentStatus
from fmgov.reviews import services, tasks
from fmgov.reviews.choices import ReviewState
from fmgov.reviews.models import RiskReview
from fmgov.reviews.tests.factories import submitted_review

pytestmark = pytest.mark.django_db


def run_enqueued(callbacks) -> list[str]:
    """Run the tasks that ``enqueue_on_commit`` would have sent, in this process; return their names."""
    names = []
    for callback in callbacks:
        task = callback.func.__self__  # partial(task.delay, *args)
        names.append(task.name)
        task(*callback.args, **callback.keywords)
    return names


def test_notification_tasks_route_to_the_notifications_queue():
    for task in (tasks.notify_reviewers_submitted, tasks.notify_submitter_decision, tasks.notify_owner_expiring):
        assert app.amqp.router.route({}, task.name)["queue"].name == "notifications"
    assert app.amqp.router.route({}, tasks.expire_reviews.name)["queue"].name == "default"


def test_daily_expiry_is_a_beat_schedule():
    periodic = PeriodicTask.objects.get(task="fmgov.reviews.tasks.expire_reviews")
    assert periodic.crontab is not None and periodic.crontab.hour == "3"


def test_submission_emails_the_reviewers(make_user, engineer, reviewer, other_reviewer,
                                         django_capture_on_commit_callbacks):  # fmt: skip
    quiet = make_user("quiet", "reviewer")
    quiet.is_active = False  # a deactivated reviewer gets no mail
    quiet.save()
    owner = make_user("olga", "engineer", "reviewer")
    with django_capture_on_commit_callbacks() as callbacks:
        review = submitted_review(author=owner)
    assert run_enqueued(callbacks) == ["fmgov.reviews.tasks.notify_reviewers_submitted"]
    assert sorted(m.to[0] for m in mail.outbox) == ["ravi@example.org", "rita@example.org"]  # never the owner
    message = mail.outbox[0]
    assert len(message.to) == 1 and f"risk review #{review.pk}" in message.subject
    assert review.content_hash in message.body


def test_decision_emails_the_submitter_with_conditions(engineer, reviewer, other_reviewer,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    review = submitted_review(author=engineer)
    services.sign_off_create(review=review, actor=reviewer, decision="approve", conditions="Monthly bias re-run.")
    with django_capture_on_commit_callbacks() as callbacks:
        services.sign_off_create(review=review, actor=other_reviewer, decision="approve", comment="Fine.")
    assert run_enqueued(callbacks) == ["fmgov.reviews.tasks.notify_submitter_decision"]
    (message,) = mail.outbox
    assert message.to == ["erin@example.org"] and message.subject.endswith(": approved")
    assert "Conditions: Monthly bias re-run." in message.body and "ravi: approve — Fine." in message.body


def test_request_changes_emails_the_submitter(engineer, reviewer, django_capture_on_commit_callbacks):
    review = submitted_review(author=engineer)
    with django_capture_on_commit_callbacks() as callbacks:
        services.review_request_changes(review=review, actor=reviewer, comment="Quantify the energy use.")
    run_enqueued(callbacks)
    assert "Changes requested: Quantify the energy use." in mail.outbox[0].body


def test_rolled_back_action_sends_nothing(engineer, reviewer, django_capture_on_commit_callbacks):
    review = submitted_review(author=engineer)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(Exception, match="Say what must change"):
        services.review_request_changes(review=review, actor=reviewer, comment="")
    assert callbacks == []


def test_expire_task_expires_and_warns(engineer, reviewer, other_reviewer, monkeypatch,
                                       django_capture_on_commit_callbacks):  # fmt: skip
    expiring = submitted_review(author=engineer)
    for r in (reviewer, other_reviewer):
        services.sign_off_create(review=expiring, actor=r, decision="approve")
    expiring.refresh_from_db()
    assert tasks.expire_reviews() == {"expired": 0, "warned": 0}

    # Fifteen days before expiry: nothing yet. Thirteen days before: one warning, once.
    from django.utils import timezone

    real_now = timezone.now
    monkeypatch.setattr("django.utils.timezone.now", lambda: expiring.expires_at - timedelta(days=15))
    assert tasks.expire_reviews() == {"expired": 0, "warned": 0}
    monkeypatch.setattr("django.utils.timezone.now", lambda: expiring.expires_at - timedelta(days=13))
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.expire_reviews() == {"expired": 0, "warned": 1}
        assert tasks.expire_reviews() == {"expired": 0, "warned": 0}
    assert run_enqueued(callbacks) == ["fmgov.reviews.tasks.notify_owner_expiring"]
    (message,) = mail.outbox
    assert message.to == ["erin@example.org"] and "in 13 day(s)" in message.body

    # Past expiry: the review expires and the deployment loses its approval.
    monkeypatch.setattr("django.utils.timezone.now", lambda: expiring.expires_at + timedelta(hours=1))
    assert tasks.expire_reviews() == {"expired": 1, "warned": 0}
    assert tasks.expire_reviews() == {"expired": 0, "warned": 0}
    monkeypatch.setattr("django.utils.timezone.now", real_now)
    expiring.refresh_from_db()
    expiring.deployment.refresh_from_db()
    assert expiring.state == ReviewState.EXPIRED
    assert expiring.deployment.status == DeploymentStatus.PROPOSED
    assert [e.action for e in AuditEvent.objects.filter(object_id=str(expiring.pk), object_type="reviews.riskreview")][
        -2:
    ] == ["review.expiry_notice", "review.expire"]


def test_tasks_tolerate_a_missing_review():
    assert tasks.notify_reviewers_submitted(999_999) == 0
    assert tasks.notify_submitter_decision(999_999) == 0
    assert tasks.notify_owner_expiring(999_999) == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_submission_notification_runs_on_a_real_worker(celery_worker, make_user):
    """Through the configured broker: the worker sends two e-mails (one per reviewer) and records the result."""
    from django_celery_results.models import TaskResult

    engineer = make_user("erin", "engineer")
    make_user("rita", "reviewer")
    make_user("ravi", "reviewer")
    review = submitted_review(author=engineer)
    # Tasks left in the broker by earlier tests (ids restart after each flush) may run with this review's id before
    # it is committed and record 0 under the same arguments, sometimes storing that result after the commit: wait for
    # this review's task to record its two e-mails (one per reviewer); it fails if none ever does.
    result = wait_for(
        lambda: TaskResult.objects.filter(
            task_name="fmgov.reviews.tasks.notify_reviewers_submitted",
            status="SUCCESS",
            task_args__contains=f"({review.pk},)",
            date_done__gte=review.submitted_at,
            result="2",
        ).first(),
        timeout=60,
        message="the notification task recording two e-mails",
    )
    assert result.result == "2"
    assert RiskReview.objects.get(pk=review.pk).state == ReviewState.SUBMITTED
