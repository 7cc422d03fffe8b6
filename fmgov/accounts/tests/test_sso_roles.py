"""Single sign-on users: local role edits refused, local passwords switchable off, configuration checked (issue 20).

SSO users are made with the sign-in service from verified claims here; ``test_sso`` goes through the real flow.
"""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings

from audits.models import AuditEvent
from fmgov.accounts.services import user_set_password, user_set_roles, user_set_superuser
from fmgov.accounts.sso_config import check_sso_settings, groups_from_claims, parse_role_map, roles_for_groups
from fmgov.accounts.sso_services import SsoRefused, sso_sign_in
from fmgov.accounts.tests.sso_support import ROLE_MAP
from fmgov.core.exceptions import NotAllowed
from fmgov.core.roles import user_roles

pytestmark = pytest.mark.django_db
User = get_user_model()
ISSUER = "https://idp.example.org"
PASSWORD = "a-long-local-passphrase-77"
SSO_ON = {
    "FMGOV_OIDC_ENABLED": True,
    "FMGOV_OIDC_ROLE_MAP": ROLE_MAP,
    "FMGOV_OIDC_PROVIDER_NAME": "Test IdP",
    "AUTHENTICATION_BACKENDS": [
        "axes.backends.AxesStandaloneBackend",
        "fmgov.accounts.oidc.LocalPasswordBackend",
        "fmgov.accounts.oidc.SsoBackend",
    ],
}


@pytest.fixture
def sso():
    with override_settings(**SSO_ON):
        yield


def sso_user(username: str, *groups: str, **claims):
    return sso_sign_in(issuer=ISSUER, claims={"sub": f"sub-{username}", "preferred_username": username,
                                              "groups": list(groups), **claims})  # fmt: skip


def test_local_role_and_superuser_edits_of_an_sso_user_are_refused_with_the_reason(sso, admin_user):
    bob = sso_user("bob", "fmgov-engineers")
    before = AuditEvent.objects.count()
    with pytest.raises(NotAllowed, match="signs in through Test IdP.*Change their groups there"):
        user_set_roles(user=bob, roles=["admin"], actor=admin_user)
    with pytest.raises(NotAllowed, match="local role and superuser edits are refused"):
        user_set_superuser(user=bob, is_superuser=True, actor=admin_user)
    bob.refresh_from_db()
    assert user_roles(bob) == {"engineer"} and not bob.is_superuser
    assert AuditEvent.objects.count() == before


def test_once_single_sign_on_is_off_admins_manage_those_roles_again(sso, admin_user):
    bob = sso_user("bob", "fmgov-engineers")
    with override_settings(FMGOV_OIDC_ENABLED=False):
        user_set_roles(user=bob, roles=["auditor"], actor=admin_user)
    assert set(bob.groups.values_list("name", flat=True)) == {"auditor"}


def test_the_user_admin_refuses_a_role_change_of_an_sso_user_on_the_form_and_keeps_other_edits(sso, client, admin_user):
    bob = sso_user("bob", "fmgov-engineers")
    client.force_login(admin_user, backend="fmgov.accounts.oidc.LocalPasswordBackend")
    form = {"username": "bob", "email": "bob@example.org", "is_active": "on"}
    admin_group = Group.objects.get(name="admin")
    response = client.post(f"/admin/auth/user/{bob.pk}/change/", {**form, "groups": [admin_group.pk]})
    assert response.status_code == 200 and b"Change their groups there" in response.content
    response = client.post(f"/admin/auth/user/{bob.pk}/change/", {**form, "is_superuser": "on"})
    assert response.status_code == 200 and b"local role and superuser edits are refused" in response.content
    bob.refresh_from_db()
    assert user_roles(bob) == {"engineer"} and not bob.is_superuser
    engineer_group = Group.objects.get(name="engineer")
    response = client.post(f"/admin/auth/user/{bob.pk}/change/", {**form, "groups": [engineer_group.pk]})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.email == "bob@example.org"


def test_the_identities_are_listed_read_only_in_the_admin(sso, client, admin_user):
    bob = sso_user("bob", "fmgov-engineers")
    client.force_login(admin_user, backend="fmgov.accounts.oidc.LocalPasswordBackend")
    listing = client.get("/admin/accounts/ssoidentity/")
    assert listing.status_code == 200 and b"sub-bob" in listing.content
    identity = bob.sso_identity
    change = client.post(f"/admin/accounts/ssoidentity/{identity.pk}/change/", {"subject": "sub-ada"})
    assert change.status_code == 403
    assert client.post(f"/admin/accounts/ssoidentity/{identity.pk}/delete/", {"post": "yes"}).status_code == 403
    identity.refresh_from_db()
    assert identity.subject == "sub-bob"


def test_adduser_cannot_recreate_or_regrant_an_sso_user(sso):
    sso_user("bob", "fmgov-engineers")
    with pytest.raises(CommandError, match="already exists"):
        call_command("adduser", "bob", "--role", "admin", stdout=StringIO())
    assert not User.objects.get(username="bob").is_superuser


@pytest.mark.parametrize("disabled", [True, False])
def test_local_password_login_of_sso_users_can_be_switched_off(sso, client, api_client, make_user, disabled):
    bob = sso_user("bob", "fmgov-engineers")
    user_set_password(user=bob, password=PASSWORD)  # e.g. set by an admin before single sign-on
    make_user("lou", "engineer", password=PASSWORD)
    with override_settings(FMGOV_OIDC_DISABLE_LOCAL_PASSWORD=disabled):
        page = client.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
        token = api_client.post("/api/v1/auth/token/", {"username": "bob", "password": PASSWORD})
        assert (page.status_code == 302) is not disabled
        assert (token.status_code == 200) is not disabled
        if disabled:
            assert b"sign in with the button above only" in client.get("/accounts/login/").content
        local = api_client.post("/api/v1/auth/token/", {"username": "lou", "password": PASSWORD})
        assert local.status_code == 200  # local accounts are untouched


def test_an_sso_password_session_ends_when_local_passwords_are_switched_off(sso, client):
    bob = sso_user("bob", "fmgov-engineers")
    client.force_login(bob, backend="fmgov.accounts.oidc.LocalPasswordBackend")
    assert client.get("/models/").status_code == 200
    with override_settings(FMGOV_OIDC_DISABLE_LOCAL_PASSWORD=True):
        assert client.get("/models/").status_code == 302


def test_sign_in_refuses_claims_without_a_subject_and_matches_by_subject_not_name(sso):
    with pytest.raises(SsoRefused, match="no usable subject"):
        sso_sign_in(issuer=ISSUER, claims={"preferred_username": "x", "groups": []})
    first = sso_user("bob", "fmgov-engineers")
    renamed = sso_sign_in(issuer=ISSUER, claims={"sub": "sub-bob", "preferred_username": "robert", "groups": []})
    assert renamed.pk == first.pk and renamed.username == "bob"
    other_issuer = sso_sign_in(issuer="https://other.example.org", claims={"sub": "sub-bob2", "email": "b@x.org"})
    assert other_issuer.username == "b@x.org" and other_issuer.pk != first.pk
    nameless = sso_sign_in(issuer=ISSUER, claims={"sub": "sub-9", "preferred_username": "<>/"})
    assert nameless.username.startswith("sso-")


def test_a_first_sign_in_losing_a_race_is_refused_cleanly(sso, monkeypatch):
    from django.db import IntegrityError

    from fmgov.accounts import sso_services

    def lose_the_race(**kwargs):
        sso_services.user_create(username="bob", roles=[])
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(sso_services, "_create", lose_the_race)
    with pytest.raises(SsoRefused, match="already under way"):
        sso_user("bob", "fmgov-engineers")
    assert not User.objects.filter(username="bob").exists()


def test_profile_follows_the_provider_and_is_audited_only_on_change(sso):
    bob = sso_user("bob", "fmgov-engineers", email="bob@a.example", family_name="Builder")
    sso_user("bob", "fmgov-engineers", email="bob@a.example", family_name="Builder")
    sso_user("bob", "fmgov-engineers", email="bob@b.example", family_name="Builder")
    updates = AuditEvent.objects.filter(action="user.update", object_id=str(bob.pk)).order_by("seq")
    assert [e.changes for e in updates] == [
        {"last_name": ["", "Builder"]},  # the e-mail came with user.create
        {"email": ["bob@a.example", "bob@b.example"]},
    ]


def test_role_map_parsing_refuses_typos_instead_of_dropping_them():
    assert parse_role_map(" a=engineer, b = reviewer ,a=auditor,") == {
        "a": frozenset({"engineer", "auditor"}),
        "b": frozenset({"reviewer"}),
    }
    assert parse_role_map("/fmgov/board=reviewer") == {"/fmgov/board": frozenset({"reviewer"})}
    for bad in ("engineers", "g=superuser", "=admin", "g=", "cn=admins,ou=groups=admin"):
        with pytest.raises(ImproperlyConfigured):
            parse_role_map(bad)


def test_groups_claim_shapes():
    assert groups_from_claims({"groups": "fmgov-board"}) == ["fmgov-board"]
    assert groups_from_claims({"groups": ["b", "a", 3, None, "", "a"]}) == ["a", "b"]
    assert groups_from_claims({"groups": {"fmgov-admins": True}}) == []
    assert groups_from_claims({}) == []
    with override_settings(FMGOV_OIDC_ROLE_MAP=ROLE_MAP):
        assert roles_for_groups(["fmgov-board", "fmgov-audit", "other"]) == ["auditor", "reviewer"]
    with override_settings(FMGOV_OIDC_GROUPS_CLAIM="roles"), override_settings(FMGOV_OIDC_ROLE_MAP=ROLE_MAP):
        assert groups_from_claims({"groups": ["fmgov-admins"], "roles": ["fmgov-board"]}) == ["fmgov-board"]


def test_manage_check_names_each_configuration_mistake():
    assert check_sso_settings() == []  # off: nothing to check
    bad = {
        "FMGOV_OIDC_ENABLED": True,
        "OIDC_RP_CLIENT_ID": "fmgov",
        "OIDC_RP_CLIENT_SECRET": "",
        "OIDC_OP_ISSUER": "https://idp.example.org",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.example.org/auth",
        "OIDC_OP_TOKEN_ENDPOINT": "http://idp.example.org/token",
        "OIDC_OP_USER_ENDPOINT": "http://127.0.0.1:8080/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": "https://idp.example.org/jwks",
        "OIDC_RP_SIGN_ALGO": "HS256",
        "FMGOV_OIDC_ROLE_MAP": "fmgov-admins=root",
    }
    with override_settings(**bad):
        ids = sorted(message.id for message in check_sso_settings())
        messages = " ".join(message.msg for message in check_sso_settings())
    assert ids == ["accounts.E101", "accounts.E102", "accounts.E103", "accounts.E105"]
    assert "OIDC_RP_CLIENT_SECRET" in messages and "OIDC_OP_TOKEN_ENDPOINT must be an https://" in messages
    assert "USER_ENDPOINT" not in messages  # http on loopback is allowed
