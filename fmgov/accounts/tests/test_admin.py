"""Every change made in the user and token admin is an event by the acting admin, or is refused."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from audits.models import AuditEvent
from fmgov.accounts.models import ApiToken
from fmgov.accounts.services import token_create, user_set_superuser

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-new-and-long-passphrase-42"


def change_form(user, **overrides) -> dict:
    """The change form as the admin posts it, for ``user`` as stored, with ``overrides``."""
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "groups": [group.pk for group in user.groups.all()],
        "is_active": "on" if user.is_active else "",
        "is_superuser": "on" if user.is_superuser else "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def post_change(admin_client, user, **overrides):
    response = admin_client.post(f"/admin/auth/user/{user.pk}/change/", change_form(user, **overrides))
    assert response.status_code == 302, response.content[:3000]
    return response


def latest(action: str, user) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, object_id=str(user.pk)).latest("seq")


def test_granting_and_taking_superuser_in_the_admin_is_an_event_by_the_admin(admin_client, engineer):
    post_change(admin_client, engineer, is_superuser="on")
    engineer.refresh_from_db()
    assert engineer.is_superuser
    event = latest("user.superuser_grant", engineer)
    assert event.actor_username == "ada" and event.changes == {"is_superuser": [False, True]}
    post_change(admin_client, engineer, is_superuser="")
    engineer.refresh_from_db()
    assert not engineer.is_superuser
    assert latest("user.superuser_revoke", engineer).actor_username == "ada"


def test_changing_roles_in_the_admin_is_one_event_with_staff_following_the_admin_role(admin_client, engineer):
    admin_group = Group.objects.get(name="admin")
    post_change(admin_client, engineer, groups=[Group.objects.get(name="engineer").pk, admin_group.pk])
    engineer.refresh_from_db()
    assert engineer.is_staff
    event = latest("user.roles_changed", engineer)
    assert event.actor_username == "ada" and event.context["added"] == ["admin"]
    assert event.changes == {"roles": [["engineer"], ["admin", "engineer"]], "is_staff": [False, True]}
    assert AuditEvent.objects.filter(action="user.roles_changed", object_id=str(engineer.pk)).count() == 2


def test_a_group_that_is_no_role_is_a_form_error_not_a_500(admin_client, engineer):
    stray = Group.objects.create(name="stray")
    response = admin_client.post(f"/admin/auth/user/{engineer.pk}/change/", change_form(engineer, groups=[stray.pk]))
    assert response.status_code == 200 and b"errorlist" in response.content
    assert list(engineer.groups.values_list("name", flat=True)) == ["engineer"]


def test_profile_edits_in_the_admin_are_an_event_and_unchanged_saves_record_nothing(admin_client, engineer):
    before = AuditEvent.objects.count()
    post_change(admin_client, engineer)
    assert AuditEvent.objects.count() == before, "saving the form unchanged records nothing"
    post_change(admin_client, engineer, email="erin@new.example", first_name="Erin")
    event = latest("user.update", engineer)
    assert event.actor_username == "ada"
    assert event.changes == {"email": ["erin@example.org", "erin@new.example"], "first_name": ["", "Erin"]}


def test_deactivating_in_the_admin_is_an_event_by_the_admin(admin_client, engineer):
    post_change(admin_client, engineer, is_active="")
    event = latest("user.deactivate", engineer)
    assert event.actor_username == "ada" and event.changes == {"is_active": [True, False]}


def test_resetting_a_password_in_the_admin_is_an_event_by_the_admin(admin_client, engineer):
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    response = admin_client.post(f"/admin/auth/user/{engineer.pk}/password/", data)
    assert response.status_code == 302, response.content[:3000]
    engineer.refresh_from_db()
    assert engineer.check_password(NEW_PASSWORD)
    event = latest("user.password_change", engineer)
    assert event.actor_username == "ada" and event.context["password_login"] is True


def test_adding_a_user_in_the_admin_is_an_event_by_the_admin(admin_client):
    data = {"username": "newt", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    response = admin_client.post("/admin/auth/user/add/", data)
    assert response.status_code == 302, response.content[:3000]
    newt = User.objects.get(username="newt")
    assert newt.check_password(NEW_PASSWORD) and not newt.is_superuser
    assert latest("user.create", newt).actor_username == "ada"


def test_deleting_users_tokens_and_editing_groups_in_the_admin_is_refused(admin_client, engineer):
    token, _ = token_create(user=engineer, name="ci")
    assert admin_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/auth/user/{engineer.pk}/delete/", {"post": "yes"}).status_code == 403
    group = Group.objects.get(name="engineer")
    response = admin_client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "renamed"})
    assert response.status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [token.pk], "post": "yes"}
    admin_client.post("/admin/accounts/apitoken/", bulk)
    assert ApiToken.objects.filter(pk=token.pk).exists() and User.objects.filter(pk=engineer.pk).exists()
    assert Group.objects.get(pk=group.pk).name == "engineer"


def test_revoking_tokens_in_the_admin_is_an_event_by_the_admin(admin_client, engineer):
    token, _ = token_create(user=engineer, name="ci")
    data = {"action": "revoke_selected", "_selected_action": [token.pk]}
    assert admin_client.post("/admin/accounts/apitoken/", data).status_code == 302
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor_username == "ada" and event.context["reason"] == "revoked in the admin"


def test_adduser_makes_an_admin_a_superuser_in_the_create_event():
    call_command("adduser", "root", "--role", "admin", "--password", "pw-12345678", stdout=StringIO())
    root = User.objects.get(username="root")
    assert root.is_superuser and root.is_staff
    event = latest("user.create", root)
    assert event.changes["is_superuser"] == [None, True] and event.actor_system == "accounts"
    call_command("adduser", "nora", "--role", "engineer", stdout=StringIO())
    assert not User.objects.get(username="nora").is_superuser


def test_djangos_createsuperuser_is_refused():
    """It creates a superuser with no event; ``adduser --role admin`` is the audited way."""
    with pytest.raises(PermissionDenied, match="adduser"):
        call_command("createsuperuser", "--noinput", "--username", "mallory", "--email", "m@example.org")
    assert not User.objects.filter(username="mallory").exists()


def test_superuser_service_is_idempotent(engineer, admin_user):
    user_set_superuser(user=engineer, is_superuser=True, actor=admin_user)
    user_set_superuser(user=engineer, is_superuser=True, actor=admin_user)
    assert AuditEvent.objects.filter(action="user.superuser_grant").count() == 1
