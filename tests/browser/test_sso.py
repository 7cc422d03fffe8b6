"""Single sign-on in Chromium: fmgov's login page -> the loopback OpenID Connect provider's form -> back, signed in."""

import re

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from fmgov.accounts.models import SsoIdentity
from fmgov.accounts.testing.oidc_provider import IDP_PASSWORD, OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_board_member_signs_in_through_the_identity_provider(live_server, browser):
    callback = f"{live_server.url}/accounts/oidc/callback/"
    with OidcProvider(redirect_uris=[callback]) as idp:
        idp.add_user("bea", groups=["fmgov-board", "fmgov-sales"])
        with override_settings(**idp.django_settings(role_map="fmgov-board=reviewer,fmgov-admins=admin")):
            context = browser.new_context(base_url=live_server.url)
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto("/accounts/login/")
            page.get_by_role("link", name="Sign in with Test IdP").click()
            page.wait_for_url(re.compile(rf"^{re.escape(idp.issuer)}/authorize\?"))
            page.get_by_label("Username").fill("bea")
            page.get_by_label("Password").fill(IDP_PASSWORD)
            page.get_by_role("button", name="Sign in to the identity provider").click()
            page.wait_for_url(f"{live_server.url}/")
            expect(page.locator(".who span")).to_have_text("bea · reviewer")
            context.close()
    identity = SsoIdentity.objects.select_related("user").get()
    assert identity.user.username == "bea" and identity.groups == ["fmgov-board", "fmgov-sales"]
    assert not identity.user.is_superuser
