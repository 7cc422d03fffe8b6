"""Expiry notices under a frozen clock: the uploader hears once, within the notice period, of a current revision."""

import datetime as dt
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core import mail

from audits.models import AuditEvent
from fmgov.core.schedules import builtin_schedule
from fmgov.evidence import tasks
from fmgov.evidence.tests.factories import attach, pdf_bytes
from fmgov.reviews.tests.factories import ready_review

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@contextmanager
def frozen(at):
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """One beat of the daily sweep at a frozen time; the e-mails it enqueues run here, as a worker would."""

    def run_eagerly(*args):
        return tasks.notify_attachment_expiry.apply(args=args)

    def _sweep(at):
        eager = mock.patch.object(tasks.notify_attachment_expiry, "delay", side_effect=run_eagerly)
        with frozen(at), eager, django_capture_on_commit_callbacks(execute=True):
            return tasks.evidence_expiry_notices()

    return _sweep


def test_the_sweep_is_a_builtin_daily_schedule():
    schedule = builtin_schedule("Evidence files: expiry notices to uploaders")
    assert schedule is not None and schedule.task == tasks.evidence_expiry_notices.name and schedule.crontab


def test_the_uploader_is_told_once_within_the_notice_period(engineer, admin_user, sweep, settings):
    settings.EVIDENCE_EXPIRY_NOTICE_DAYS = 30
    review = ready_review(author=engineer)
    licence = attach(engineer, review, name="licence.pdf", expires_on=dt.date(2027, 3, 31))
    attach(engineer, review, name="no-expiry.pdf")
    replaced = attach(admin_user, review, name="dpia.pdf", content=pdf_bytes("dpia"), expires_on=dt.date(2027, 3, 5))
    attach(admin_user, review, name="dpia.pdf", content=pdf_bytes("dpia 2"), expires_on=dt.date(2028, 3, 5))

    assert sweep(dt.datetime(2027, 2, 28, 23, 0, tzinfo=UTC)) == 0  # 31 days before
    assert sweep(dt.datetime(2027, 3, 1, 6, 15, tzinfo=UTC)) == 1  # 30 days before
    assert sweep(dt.datetime(2027, 3, 2, 6, 15, tzinfo=UTC)) == 0  # told already
    (message,) = mail.outbox
    assert message.to == [engineer.email]
    assert "licence.pdf" in message.subject and "2027-03-31" in message.subject and licence.sha256 in message.body
    (event,) = AuditEvent.objects.filter(action="attachment.expiry_notice")
    assert (event.object_id, event.actor_system) == (str(licence.pk), tasks.evidence_expiry_notices.name)
    # The superseded revision expiring sooner was never announced: its successor replaced it.
    replaced.refresh_from_db()
    assert replaced.expiry_notice_sent_at is None
    # A redelivered e-mail task sends nothing again (keyed by the attachment).
    tasks.notify_attachment_expiry.apply(args=(licence.pk,))
    assert len(mail.outbox) == 1
