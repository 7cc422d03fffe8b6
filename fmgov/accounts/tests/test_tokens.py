"""API tokens end with a password change or a deactivation, however it is made; users and admins revoke them."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import override_settings
from rest_framework.test import APIClient

from audits.models import AuditEvent
from fmgov.accounts.models import ApiToken
from fmgov.accounts.services import token_create, user_set_active, user_set_password
from fmgov.core.exceptions import InvalidInput

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "a-new-and-long-passphrase-42"


def active_tokens(user) -> int:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()


def assert_revoked_by(user, actor_username: str, reason: str) -> None:
    assert active_tokens(user) == 0
    events = AuditEvent.objects.filter(action="token.revoke", object_repr__endswith=f"of {user.username}")
    assert events.count() == 2
    assert {(e.actor_username, e.context["reason"]) for e in events} == {(actor_username, reason)}


@pytest.fixture
def erin_with_tokens(engineer, client_for):
    """Erin holds two tokens; a colleague's token must survive whatever happens to Erin."""
    client = client_for(engineer)
    token_create(user=engineer, name="ci")
    return engineer, client


# --- password changes ------------------------------------------------------------------------


def test_password_change_through_the_service_revokes_every_token(erin_with_tokens, other_engineer, admin_user):
    erin, client = erin_with_tokens
    token_create(user=other_engineer, name="other")
    user_set_password(user=erin, password=NEW_PASSWORD, actor=admin_user)
    assert_revoked_by(erin, "ada", "password changed")
    assert active_tokens(other_engineer) == 1
    assert AuditEvent.objects.get(action="user.password_change").actor_username == "ada"
    assert client.get("/api/v1/me/").status_code == 401


def test_a_refused_password_is_a_400_per_field_and_revokes_nothing(erin_with_tokens):
    erin, _ = erin_with_tokens
    with pytest.raises(InvalidInput) as refused:
        user_set_password(user=erin, password="123", actor=erin)
    assert "password" in refused.value.field_errors
    assert active_tokens(erin) == 2


def test_password_change_in_the_admin_revokes_tokens(client, admin_user, erin_with_tokens):
    erin, _ = erin_with_tokens
    client.force_login(admin_user)
    response = client.post(
        f"/admin/auth/user/{erin.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert_revoked_by(erin, "ada", "password changed")


def test_disabling_password_login_in_the_admin_revokes_tokens(client, admin_user, erin_with_tokens):
    """Django's admin can switch password login off (set_unusable_password): a password change all the same."""
    erin, _ = erin_with_tokens
    client.force_login(admin_user)
    response = client.post(f"/admin/auth/user/{erin.pk}/password/", {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 302, response.content[:2000]
    erin.refresh_from_db()
    assert not erin.has_usable_password()
    assert_revoked_by(erin, "ada", "password changed")


def test_setpassword_command_revokes_tokens(monkeypatch, erin_with_tokens):
    from fmgov.accounts.management.commands import setpassword

    erin, _ = erin_with_tokens
    monkeypatch.setattr(setpassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    call_command("setpassword", "erin", stdout=StringIO())
    assert_revoked_by(erin, "", "password changed")
    assert AuditEvent.objects.get(action="user.password_change").actor_system == "accounts"


def test_djangos_changepassword_command_is_refused(monkeypatch, erin_with_tokens):
    """It saves the user directly, with no event: refused, and the password stays as it was."""
    from django.contrib.auth.management.commands import changepassword

    erin, _ = erin_with_tokens
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)
    with pytest.raises(PermissionDenied, match="setpassword"):
        call_command("changepassword", "erin", stdout=StringIO())
    erin.refresh_from_db()
    assert erin.check_password(PASSWORD) and active_tokens(erin) == 2
    assert not AuditEvent.objects.filter(action="user.password_change").exists()


def test_password_change_page_revokes_tokens(client, erin_with_tokens):
    erin, _ = erin_with_tokens
    client.force_login(erin)
    data = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert client.post("/accounts/password/", data).status_code == 302
    assert_revoked_by(erin, "erin", "password changed")
    assert AuditEvent.objects.get(action="user.password_change").actor_username == "erin"
    assert client.get("/").status_code == 200, "the session survives its own password change"


class FastPBKDF2(PBKDF2PasswordHasher):
    iterations = 1


@override_settings(
    PASSWORD_HASHERS=[
        "fmgov.accounts.tests.test_tokens.FastPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
)
def test_a_hash_upgrade_at_login_is_not_a_password_change(client, erin_with_tokens):
    erin, _ = erin_with_tokens
    assert erin.password.startswith("md5$")
    assert client.post("/accounts/login/", {"username": "erin", "password": PASSWORD}).status_code == 302
    erin.refresh_from_db()
    assert erin.password.startswith("pbkdf2_sha256$")
    assert active_tokens(erin) == 2


# --- deactivation ----------------------------------------------------------------------------


def test_deactivation_through_the_service_revokes_and_reactivation_does_not(erin_with_tokens, admin_user):
    erin, _ = erin_with_tokens
    user_set_active(user=erin, is_active=False, actor=admin_user)
    assert_revoked_by(erin, "ada", "user deactivated")
    token_create(user=erin, name="after")
    user_set_active(user=erin, is_active=True, actor=admin_user)
    assert active_tokens(erin) == 1
    actions = list(AuditEvent.objects.filter(action__startswith="user.").values_list("action", flat=True))
    assert actions[-2:] == ["user.deactivate", "user.activate"]


def test_deactivation_in_the_admin_revokes_tokens(client, admin_user, erin_with_tokens):
    erin, _ = erin_with_tokens
    client.force_login(admin_user)
    response = client.post(
        f"/admin/auth/user/{erin.pk}/change/",
        {
            "username": "erin",
            "groups": [group.pk for group in erin.groups.all()],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        },  # is_active left unticked
    )
    assert response.status_code == 302, response.content[:2000]
    assert_revoked_by(erin, "ada", "user deactivated")
    assert AuditEvent.objects.get(action="user.deactivate").actor_username == "ada"


def test_other_saves_of_a_user_leave_tokens_alone(erin_with_tokens):
    erin, _ = erin_with_tokens
    erin.email = "erin@example.com"
    erin.save()
    erin.save(update_fields=["last_login"])
    assert active_tokens(erin) == 2
    assert not AuditEvent.objects.filter(action__in=["user.deactivate", "user.password_change"]).exists()


# --- the tokens API --------------------------------------------------------------------------


def test_users_list_their_own_tokens_without_keys(erin_with_tokens, other_engineer, django_assert_max_num_queries):
    erin, client = erin_with_tokens
    token_create(user=other_engineer, name="other")
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert {row["user"] for row in rows} == {"erin"} and len(rows) == 2
    assert [row["current"] for row in rows].count(True) == 1
    assert not any("key" in field for row in rows for field in row if field != "key_prefix")
    assert "key_hash" not in response.content.decode()


def test_users_revoke_their_own_tokens_by_post_or_delete(erin_with_tokens):
    erin, client = erin_with_tokens
    ci, test = ApiToken.objects.get(user=erin, name="ci"), ApiToken.objects.get(user=erin, name="test")
    response = client.post(f"/api/v1/auth/tokens/{ci.pk}/revoke/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert AuditEvent.objects.get(action="token.revoke").actor_username == "erin"
    assert client.delete(f"/api/v1/auth/tokens/{test.pk}/").status_code == 204
    assert active_tokens(erin) == 0 and ApiToken.objects.filter(user=erin).count() == 2
    assert client.get("/api/v1/me/").status_code == 401  # that was the token in hand


def test_an_engineer_cannot_see_or_revoke_another_users_token(erin_with_tokens, other_engineer):
    _, client = erin_with_tokens
    token, _ = token_create(user=other_engineer, name="other")
    assert client.get(f"/api/v1/auth/tokens/{token.pk}/").status_code == 404
    assert client.post(f"/api/v1/auth/tokens/{token.pk}/revoke/").status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{token.pk}/").status_code == 404
    assert active_tokens(other_engineer) == 1
    assert not AuditEvent.objects.filter(action="token.revoke").exists()


def test_admins_list_and_revoke_anyones_token(client_for, admin_user, erin_with_tokens):
    erin, _ = erin_with_tokens
    admin = client_for(admin_user)
    listed = admin.get("/api/v1/auth/tokens/", {"user": erin.pk}).json()["results"]
    assert {row["user"] for row in listed} == {"erin"} and len(listed) == 2
    assert {row["user"] for row in admin.get("/api/v1/auth/tokens/").json()["results"]} == {"erin", "ada"}
    response = admin.post(f"/api/v1/auth/tokens/{listed[0]['id']}/revoke/")
    assert response.status_code == 200 and response.json()["revoked_at"]
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor_username == "ada" and event.context["user"] == "erin"


def test_tokens_api_needs_authentication():
    assert APIClient().get("/api/v1/auth/tokens/").status_code == 401
