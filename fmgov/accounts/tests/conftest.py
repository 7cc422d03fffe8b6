"""Fixtures of the accounts tests: the loopback OpenID Connect provider and fmgov configured to use it."""

import pytest
from django.test import override_settings

from fmgov.accounts.testing.oidc_provider import OidcProvider
from fmgov.accounts.tests.sso_support import CALLBACK, ROLE_MAP


@pytest.fixture(scope="module")
def provider():
    with OidcProvider(redirect_uris=[CALLBACK]) as idp:
        yield idp


@pytest.fixture
def idp(provider):
    """The module's provider with no accounts and no tampering, and fmgov configured to use it."""
    provider.users.clear()
    provider.tamper = ""
    provider.auto_login = None
    with override_settings(**provider.django_settings(role_map=ROLE_MAP)):
        yield provider
