"""Single sign-on test helpers: the loopback provider for a module, settings pointing at it, the real flow."""

import requests
from django.contrib.auth import get_user
from django.http import HttpRequest

CALLBACK = "http://testserver/accounts/oidc/callback/"
ROLE_MAP = "fmgov-engineers=engineer,fmgov-board=reviewer,fmgov-audit=auditor,fmgov-admins=admin"


def sso_login(client, idp, username: str, *, next_url: str = ""):
    """Start at fmgov, be sent to the provider, come back with the code: the response after the last redirect."""
    idp.auto_login = username
    start = client.get("/accounts/oidc/authenticate/", {"next": next_url} if next_url else {})
    assert start.status_code == 302 and start["Location"].startswith(f"{idp.issuer}/authorize?")
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["Location"]
    assert back.startswith(CALLBACK)
    return client.get(back.removeprefix("http://testserver"), follow=True)


def signed_in_user(client):
    """The user the client's session signs in as Django would load it (backend, activity, session hash), or None."""
    request = HttpRequest()
    request.session = client.session
    user = get_user(request)
    return user if user.is_authenticated else None
