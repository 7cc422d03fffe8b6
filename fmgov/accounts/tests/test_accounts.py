"""Users, roles, tokens and login protection."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from audits.models import AuditEvent
from fmgov.accounts.models import ApiToken
from fmgov.accounts.services import token_revoke, user_set_roles

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"


def test_adduser_prints_a_working_token_last():
    out = StringIO()
    call_command("adduser", "nora", "--role", "engineer", "--role", "reviewer", "--password", "pw-12345678", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "nora" and me["roles"] == ["engineer", "reviewer"]
    actions = list(AuditEvent.objects.filter(object_repr="nora").values_list("action", flat=True))
    assert "user.create" in actions and "user.roles_changed" in actions
    assert AuditEvent.objects.filter(action="token.create", object_repr__contains="nora").exists()


def test_adduser_refuses_a_duplicate_and_an_unknown_role(engineer):
    with pytest.raises(CommandError, match="already exists"):
        call_command("adduser", "erin", "--role", "engineer", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("adduser", "zed", "--role", "overlord", stdout=StringIO(), stderr=StringIO())


def test_token_endpoint_returns_a_token(engineer):
    response = APIClient().post("/api/v1/auth/token/", {"username": "erin", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/me/").json()["roles"] == ["engineer"]
    assert AuditEvent.objects.filter(action="auth.login", actor=engineer).exists()


def test_token_endpoint_validates_per_field():
    response = APIClient().post("/api/v1/auth/token/", {"username": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"username", "password"}


def test_wrong_password_is_a_400_and_an_audit_event(engineer):
    response = APIClient().post("/api/v1/auth/token/", {"username": "erin", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.login_failed", object_repr="erin").exists()


def test_unauthenticated_api_calls_get_401():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_fourth_failed_token_login_is_refused_even_with_the_right_password(engineer):
    client = APIClient()
    for _ in range(2):
        assert client.post("/api/v1/auth/token/", {"username": "erin", "password": "bad"}).status_code == 400
    # The third failure reaches the limit: it is answered with the lockout.
    assert client.post("/api/v1/auth/token/", {"username": "erin", "password": "bad"}).status_code == 429
    response = client.post("/api/v1/auth/token/", {"username": "erin", "password": PASSWORD})
    assert response.status_code == 429
    assert "token" not in response.json()
    assert "Too many failed login attempts" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 3
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()


def test_fourth_failed_page_login_is_refused(client, engineer):
    for _ in range(2):
        response = client.post("/accounts/login/", {"username": "erin", "password": "bad"})
        assert response.status_code == 200 and b"did not match" in response.content
    assert client.post("/accounts/login/", {"username": "erin", "password": "bad"}).status_code == 429
    response = client.post("/accounts/login/", {"username": "erin", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()


def test_page_login_works_and_is_audited(client, engineer):
    response = client.post("/accounts/login/", {"username": "erin", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor=engineer).exists()


def test_pages_require_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_revoked_and_expired_tokens_are_refused(engineer, client_for):
    client = client_for(engineer)
    assert client.get("/api/v1/me/").status_code == 200
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="token.revoke").exists()

    client = client_for(engineer)
    token = ApiToken.objects.filter(revoked_at__isnull=True).latest("created_at")
    token.expires_at = timezone.now() - timedelta(seconds=1)
    token.save(update_fields=["expires_at"])
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_revoking_twice_records_once(engineer, client_for):
    client_for(engineer)
    token = ApiToken.objects.get(user=engineer)
    token_revoke(token=token, actor=engineer)
    token_revoke(token=token, actor=engineer)
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_role_changes_are_audited(engineer, admin_user):
    user_set_roles(user=engineer, roles=["engineer", "reviewer"], actor=admin_user)
    event = AuditEvent.objects.filter(action="user.roles_changed", object_id=str(engineer.pk)).latest("seq")
    assert event.context["added"] == ["reviewer"]
    assert event.changes["roles"] == [["engineer"], ["engineer", "reviewer"]]
    assert event.actor_username == "ada"


def test_role_change_through_the_admin_is_audited(client, admin_user, engineer):
    client.force_login(admin_user)
    group = Group.objects.get(name="auditor")
    response = client.post(
        f"/admin/auth/user/{engineer.pk}/change/",
        {
            "username": "erin",
            "groups": [Group.objects.get(name="engineer").pk, group.pk],
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert AuditEvent.objects.filter(action="user.roles_changed", object_id=str(engineer.pk)).exists()


def test_schema_and_docs_are_served(client, engineer):
    assert client.get("/api/schema/").status_code == 200
    client.force_login(engineer)
    assert client.get("/api/docs/").status_code == 200
