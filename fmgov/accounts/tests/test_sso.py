"""Single sign-on through the real OpenID Connect flow against the loopback provider (issue 20).

Each test goes fmgov -> provider -> fmgov callback with Django's test client and ``requests`` (loopback only);
the callback's token, JWKS and user-info calls go to the provider's thread.
"""

import pytest
import requests
from django.contrib.auth import authenticate, get_user_model
from django.test import RequestFactory, override_settings

from audits.models import AuditEvent
from fmgov.accounts.models import SsoIdentity
from fmgov.accounts.services import user_set_active
from fmgov.accounts.sso_config import check_sso_settings
from fmgov.accounts.testing.oidc_provider import TAMPERINGS
from fmgov.accounts.tests.sso_support import CALLBACK, signed_in_user, sso_login
from fmgov.core.roles import user_roles

pytestmark = pytest.mark.django_db
User = get_user_model()


def events(action: str, user=None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(action=action).order_by("seq")
    return list(found.filter(object_id=str(user.pk)) if user is not None else found)


def test_sso_is_off_by_default_the_login_page_has_no_button_and_its_urls_answer_404(client):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b"Sign in with" not in page.content
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_login_page_offers_the_provider_when_configured(client, idp):
    assert check_sso_settings() == []  # the provider's configuration passes manage.py check
    page = client.get("/accounts/login/?next=/audit/")
    assert b"Sign in with Test IdP" in page.content
    assert b'href="/accounts/oidc/authenticate/?next=/audit/"' in page.content


def test_mapped_groups_sign_in_with_their_roles_and_every_step_is_audited(client, idp):
    idp.add_user("alice", groups=["fmgov-engineers", "fmgov-board", "marketing"], given_name="Alice")
    page = sso_login(client, idp, "alice", next_url="/models/")
    assert page.status_code == 200 and page.redirect_chain[-1][0] == "/models/"
    alice = signed_in_user(client)
    assert alice.username == "alice" and alice.email == "alice@idp.example.org" and alice.first_name == "Alice"
    assert user_roles(alice) == {"engineer", "reviewer"} and not alice.is_superuser and not alice.is_staff
    identity = SsoIdentity.objects.get(user=alice)
    assert (identity.issuer, identity.subject) == (idp.issuer, "sub-alice")
    assert identity.groups == ["fmgov-board", "fmgov-engineers", "marketing"]
    assert not alice.has_usable_password()
    (roles_event,) = events("user.roles_changed", alice)
    assert roles_event.actor_system == "sso" and roles_event.changes == {"roles": [[], ["engineer", "reviewer"]]}
    assert roles_event.context["source"] == "identity provider"
    assert [e.action for e in AuditEvent.objects.filter(object_id=str(alice.pk)).order_by("seq")] == [
        "user.create",
        "user.sso_link",
        "user.update",  # the given name
        "user.roles_changed",
        "auth.login",
    ]


def test_an_unmapped_user_gets_no_role_and_sees_only_the_no_role_page(client, idp):
    idp.add_user("mallory", groups=["marketing", "admins", "fmgov-admin"])  # look-alikes, not in the map
    page = sso_login(client, idp, "mallory")
    assert page.status_code == 403 and b"You have no role yet" in page.content
    mallory = signed_in_user(client)
    assert user_roles(mallory) == set() and not mallory.is_superuser and not mallory.is_staff
    assert events("user.roles_changed", mallory) == []
    for path in ("/audit/", "/admin/", "/api/v1/deployments/"):
        response = client.get(path)
        assert response.status_code in (302, 403), path
        assert not (response.status_code == 302 and "/admin/login" not in response["Location"])
    assert client.get("/api/v1/me/").json()["roles"] == []


def test_admin_only_through_an_explicit_mapping_and_taken_back_at_the_next_sign_in(client, idp):
    idp.add_user("ada", groups=["fmgov-admins"])
    sso_login(client, idp, "ada")
    ada = signed_in_user(client)
    assert user_roles(ada) == {"admin"} and ada.is_superuser and ada.is_staff
    assert events("user.superuser_grant", ada)[0].actor_system == "sso"
    client.logout()
    idp.users["ada"]["claims"]["groups"] = ["fmgov-audit"]
    sso_login(client, idp, "ada")
    ada.refresh_from_db()
    ada._fmgov_roles = None
    assert user_roles(ada) == {"auditor"} and not ada.is_superuser and not ada.is_staff
    assert events("user.superuser_revoke", ada)[0].changes == {"is_superuser": [True, False]}
    assert events("user.roles_changed", ada)[-1].changes["roles"] == [["admin"], ["auditor"]]


def test_without_an_admin_mapping_nobody_becomes_admin(client, idp):
    with override_settings(FMGOV_OIDC_ROLE_MAP="fmgov-engineers=engineer"):
        idp.add_user("root", groups=["fmgov-admins", "admin", "admins", "superuser"])
        page = sso_login(client, idp, "root")
    root = signed_in_user(client)
    assert page.status_code == 403 and user_roles(root) == set() and not root.is_superuser


def test_roles_are_applied_at_every_sign_in_and_audited_only_when_they_change(client, idp):
    idp.add_user("bob", groups=["fmgov-engineers"])
    for _ in range(2):
        sso_login(client, idp, "bob")
        client.logout()
    bob = User.objects.get(username="bob")
    assert len(events("user.roles_changed", bob)) == 1 and len(events("auth.login", bob)) == 2
    idp.users["bob"]["claims"]["groups"] = []
    page = sso_login(client, idp, "bob")
    assert page.status_code == 403
    last = events("user.roles_changed", bob)[-1]
    assert last.changes == {"roles": [["engineer"], []]} and last.context["removed"] == ["engineer"]


REFUSALS = {
    "signature": "Signature verification failed",
    "foreign-key": "Signature verification failed",
    "audience": "Audience doesn&#x27;t match",
    "issuer": "Invalid issuer",
    "nonce": "its nonce is not this sign-in",
    "expired": "Signature has expired",
    "alg-none": "it is not signed with RS256",
    "hs256": "it is not signed with RS256",
    "userinfo-sub": "user information is about another subject",
}


def test_every_tampering_of_the_provider_is_tested():
    assert set(REFUSALS) == set(TAMPERINGS)


@pytest.mark.parametrize(("tampering", "reason"), REFUSALS.items())
def test_a_tampered_or_misdirected_id_token_is_refused(client, idp, tampering, reason):
    idp.add_user("trudy", groups=["fmgov-admins"])
    idp.tamper = tampering
    page = sso_login(client, idp, "trudy")
    assert page.status_code == 200 and page.redirect_chain[-1][0] == "/accounts/login/"
    assert reason.encode() in page.content
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="trudy").exists()
    (refusal,) = events("auth.sso_refused")
    assert refusal.actor_system == "sso" and reason.replace("&#x27;", "'") in refusal.context["reason"]


def test_a_replayed_callback_and_a_callback_from_another_browser_are_refused(client, idp):
    idp.add_user("carol", groups=["fmgov-engineers"])
    idp.auto_login = "carol"
    start = client.get("/accounts/oidc/authenticate/")
    back = requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"]
    path = back.removeprefix("http://testserver")
    stranger = client.__class__()
    refused = stranger.get(path, follow=True)  # a login-CSRF: someone else's code in this browser
    assert signed_in_user(stranger) is None and refused.redirect_chain[-1][0] == "/accounts/login/"
    assert client.get(path).status_code == 302 and signed_in_user(client).username == "carol"
    replay = client.get(path, follow=True)  # the state was used up
    assert b"could not be verified" in replay.content and replay.redirect_chain[-1][0] == "/accounts/login/"
    client.logout()
    replay = client.get(path, follow=True)
    assert signed_in_user(client) is None and b"did not complete" in replay.content
    assert len(events("auth.sso_refused")) == 3


def test_a_local_account_is_never_taken_over_by_name_or_email(client, idp, make_user):
    local = make_user("alice", "admin", email="alice@idp.example.org")
    idp.add_user("alice", groups=["fmgov-engineers"])
    page = sso_login(client, idp, "alice")
    assert signed_in_user(client) is None
    assert b"already exists and is not linked" in page.content
    assert not SsoIdentity.objects.exists() and user_roles(User.objects.get(pk=local.pk)) == {"admin"}


def test_a_deactivated_sso_user_is_refused_and_loses_their_session(client, idp, admin_user):
    idp.add_user("dave", groups=["fmgov-engineers"])
    sso_login(client, idp, "dave")
    dave = signed_in_user(client)
    user_set_active(user=dave, is_active=False, actor=admin_user)
    assert client.get("/").status_code == 302  # the session no longer signs anyone in
    page = sso_login(client, idp, "dave")
    assert signed_in_user(client) is None and b"deactivated" in page.content


def test_an_unsafe_next_is_dropped_and_a_broken_role_map_is_a_message(client, idp):
    idp.add_user("gus", groups=["fmgov-engineers"])
    page = sso_login(client, idp, "gus", next_url="https://evil.example/")
    assert page.redirect_chain[-1][0] == "/" and signed_in_user(client).username == "gus"
    client.logout()
    with override_settings(FMGOV_OIDC_ROLE_MAP="fmgov-engineers=root"):
        page = sso_login(client, idp, "gus")
    assert b"misconfigured" in page.content and signed_in_user(client) is None


def test_an_unreachable_provider_is_a_message_not_an_error(client, idp):
    idp.add_user("erin", groups=["fmgov-engineers"])
    with override_settings(OIDC_OP_TOKEN_ENDPOINT="http://127.0.0.1:9/token", OIDC_TIMEOUT=1):
        page = sso_login(client, idp, "erin")
    assert page.status_code == 200 and b"could not be reached" in page.content
    assert signed_in_user(client) is None


def test_a_password_login_never_reaches_the_provider_even_with_a_code_in_its_url(idp):
    request = RequestFactory().post(f"/accounts/login/?code=stolen&state=x&redirect={CALLBACK}")
    request.session = {}
    calls = idp.token_calls
    assert authenticate(request, username="nobody", password="wrong") is None
    assert idp.token_calls == calls
