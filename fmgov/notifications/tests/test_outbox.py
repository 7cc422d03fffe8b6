"""Development mail: one file and one console line per message, read by admins on the Outbox page."""

import logging

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.urls import reverse

from fmgov.notifications.backends import LOGGER_NAME, OUTBOX_BACKEND
from fmgov.notifications.selectors import outbox_message_names
from fmgov.reviews.tests.factories import submitted_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbox(settings, tmp_path):
    """The outbox backend, writing under this test's tmp_path only."""
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def logged_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]


def test_one_file_and_one_console_line_per_message(outbox, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    body = "First line of a long notification.\n" * 40
    connection = mail.get_connection()
    sent = connection.send_messages(
        [
            EmailMessage("[fmgov] First", body, "fmgov@localhost", ["rita@example.org"]),
            EmailMessage("[fmgov] Second", body, "fmgov@localhost", ["ravi@example.org", "sam@example.org"]),
            EmailMessage("[fmgov] Nobody", body, "fmgov@localhost", []),
        ]
    )
    assert sent == 2
    assert logged_lines(caplog) == [
        "mail to rita@example.org: [fmgov] First",
        "mail to ravi@example.org, sam@example.org: [fmgov] Second",
    ]
    files = sorted(p.name for p in outbox.iterdir())
    assert len(files) == 2 and all(name.endswith(".eml") for name in files), "no partial files left behind"
    assert outbox_message_names() == files[::-1], "newest first"


def test_the_line_shows_when_everything_else_logs_warnings_only():
    """`make run` starts Celery at WARNING (quiet); the outbox's own logger stays at INFO."""
    assert logging.getLogger().getEffectiveLevel() >= logging.WARNING  # the test settings, like `-l warning`
    assert logging.getLogger(LOGGER_NAME).getEffectiveLevel() == logging.INFO


def test_a_notification_is_read_on_the_outbox_page_by_admins_only(
    outbox, client, engineer, reviewer, other_reviewer, admin_user, auditor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        review = submitted_review(author=engineer)
    mail.outbox.clear()
    (callback,) = callbacks  # partial(task.delay, review_id): run it as the worker would
    assert callback.func.__self__.apply(args=callback.args, task_id="outbox-1").get() == 2
    assert mail.outbox == [], "sent through the outbox backend, not locmem"

    client.force_login(admin_user)
    listing = client.get(reverse("notifications:outbox"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "2 messages, newest first" in page and 'href="/outbox/"' in page, "listed, and linked in the nav"
    assert page.count(f"risk review #{review.pk}") == 2
    assert "ravi@example.org" in page and "rita@example.org" in page
    name = outbox_message_names()[0]
    detail = client.get(reverse("notifications:outbox-detail", args=[name]))
    assert detail.status_code == 200
    assert review.content_hash in detail.content.decode(), "the body is shown"

    for user in (engineer, auditor):
        client.force_login(user)
        assert client.get(reverse("notifications:outbox")).status_code == 403
        assert client.get(reverse("notifications:outbox-detail", args=[name])).status_code == 403
        assert 'href="/outbox/"' not in client.get(reverse("dashboard")).content.decode(), "no nav link"
    client.logout()
    assert client.get(reverse("notifications:outbox")).status_code == 302


def test_only_files_the_backend_wrote_can_be_opened(outbox, client, admin_user):
    outbox.mkdir()
    (outbox / "notes.eml").write_text("Subject: not from the backend\n\nsecret")
    (outbox / ".20250101T000000000000Z-0123456789ab.eml.part").write_text("Subject: half written\n\n")
    client.force_login(admin_user)
    page = client.get(reverse("notifications:outbox")).content.decode()
    assert "0 messages" in page and "not from the backend" not in page and "half written" not in page
    for name in ("notes.eml", "..", "20250101T000000000000Z-0123456789ab.eml"):
        assert client.get(reverse("notifications:outbox-detail", args=[name])).status_code == 404


def test_with_another_backend_the_page_says_where_mail_goes(settings, tmp_path, client, admin_user):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    (tmp_path / "20250101T000000000000Z-0123456789ab.eml").write_text("Subject: left over\n\n")
    client.force_login(admin_user)
    page = client.get(reverse("notifications:outbox")).content.decode()
    assert "django.core.mail.backends.smtp.EmailBackend" in page and "left over" not in page
