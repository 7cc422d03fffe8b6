"""`make run`'s start-up: it ends with where to log in, once the queued e-mail has been sent."""

import pytest

from fmgov.core import devserver


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.setattr(devserver, "QUIET_SECONDS", 0.05)
    monkeypatch.setattr(devserver, "POLL_SECONDS", 0.01)


def test_the_banner_says_where_to_log_in_and_as_whom(settings, tmp_path):
    login = "Log in as admin; the password is in var/admin-password.txt\nDemo users, password 'demo-password': erin\n"
    banner = devserver.ready_banner(login, url="http://127.0.0.1:8000/", outbox=tmp_path / "mail", mail_count=96)
    lines = banner.splitlines()
    assert lines[0] == lines[-1] and set(lines[0]) == {"─"}, "a block of its own"
    assert lines[1] == "fmgov is ready: http://127.0.0.1:8000/"
    assert lines[2:4] == login.strip().splitlines()
    assert "96 message(s)" in banner and "http://127.0.0.1:8000/outbox/" in banner
    assert "E-mail" not in devserver.ready_banner(login, outbox=None), "no outbox line when mail really goes out"


def test_ready_once_the_web_answers_and_the_queued_mail_is_sent(fast):
    web = iter([False, False, True])
    queue = iter([3, 1, 0])
    mails = iter([10, 40, 96])
    asked_web = []

    def web_up():
        asked_web.append(1)
        return next(web)

    def mail_count():
        return next(mails, 96)

    assert devserver.wait_until_ready(lambda: True, web_up=web_up, queued=lambda: next(queue, 0), mail_count=mail_count)
    assert len(asked_web) == 3, "the web is asked until it answers once, not on every poll"


def test_not_ready_when_a_process_died(fast):
    assert not devserver.wait_until_ready(lambda: False, web_up=lambda: True, queued=lambda: 0, mail_count=lambda: 0)


def test_outbox_only_with_the_outbox_backend(settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert devserver._outbox() is None and devserver._mail_count() == 0
    settings.EMAIL_BACKEND = devserver.OUTBOX_BACKEND
    (tmp_path / "20250101T000000000000Z-0123456789ab.eml").write_text("Subject: s\n\n")
    assert devserver._outbox() == tmp_path and devserver._mail_count() == 1
