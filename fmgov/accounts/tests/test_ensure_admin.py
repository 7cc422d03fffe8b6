"""`ensure_admin`: one admin login, its password kept in VAR_DIR and never printed."""

import io
import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from audits.models import AuditEvent
from fmgov.accounts.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def run() -> str:
    out = io.StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_says_who_logs_in_and_where_the_password_is(settings, tmp_path, make_user):
    settings.VAR_DIR = tmp_path
    make_user("erin", "engineer")
    make_user("rita", "reviewer")
    first = run()
    password_file = tmp_path / "admin-password.txt"
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert first.splitlines() == [
        f"Log in as admin; the password is in {password_file}",
        f"Demo users, password {DEMO_PASSWORD!r}: erin (engineer); rita (reviewer)",
    ]
    assert password not in first
    assert User.objects.get(username="admin").check_password(password)
    assert run() == first and password_file.read_text().strip() == password, "a second run changes nothing"
    created = AuditEvent.objects.get(action="user.create", object_repr="admin")
    assert created.changes["is_superuser"] == [None, True] and created.actor_system == "accounts"
    assert User.objects.get(username="admin").is_superuser


def test_a_lost_password_file_is_said_so(settings, tmp_path, make_user):
    settings.VAR_DIR = tmp_path
    make_user("admin", "admin")
    assert "set before and is not in" in run() and "setpassword admin" in run()
    assert not (tmp_path / "admin-password.txt").exists()
