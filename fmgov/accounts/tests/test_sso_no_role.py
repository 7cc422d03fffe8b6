"""The "no role yet" page for single sign-on users: their role comes from the provider's groups, not from an admin.

Signing in again is the only way such a user gets a role, so starting single sign-on stays open to them.
"""

import pytest
from django.urls import reverse

from fmgov.accounts.tests.sso_support import signed_in_user, sso_login
from fmgov.core.middleware import NO_ROLE_MESSAGE, ROLELESS_VIEWS
from fmgov.core.roles import user_roles

pytestmark = pytest.mark.django_db


def test_an_sso_user_without_a_role_is_told_to_ask_the_provider_and_gets_a_role_by_signing_in_again(client, idp):
    account = idp.add_user("nina", groups=["marketing"])
    page = sso_login(client, idp, "nina")
    text = page.content.decode()
    assert page.status_code == 403 and "You have no role yet" in text
    assert "your Test IdP groups, not from an fmgov admin" in text and "ask an admin" not in text
    assert reverse("oidc_authentication_init") in text and "change your password" not in text
    api = client.get("/api/v1/deployments/")
    assert api.status_code == 403 and "Test IdP groups" in api.json()["detail"]
    assert "oidc_authentication_init" in ROLELESS_VIEWS
    start = client.get(reverse("oidc_authentication_init"))  # open to her although she holds no role
    assert start.status_code == 302 and start["Location"].startswith(f"{idp.issuer}/authorize?")
    account["claims"]["groups"] = ["fmgov-engineers"]  # the provider's admin adds her to a mapped group
    sso_login(client, idp, "nina")
    assert user_roles(signed_in_user(client)) == {"engineer"} and client.get("/").status_code == 200


def test_a_local_user_without_a_role_still_asks_an_admin_while_single_sign_on_is_on(client, idp, make_user):
    client.force_login(make_user("lena"))
    page = client.get("/")
    assert page.status_code == 403 and NO_ROLE_MESSAGE in page.content.decode()
    assert client.get("/api/v1/deployments/").json() == {"detail": NO_ROLE_MESSAGE}
