"""Every page and endpoint needs a role: a signed-in user holding none gets 403 everywhere but the exemptions."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from fmgov.core.middleware import NO_ROLE_MESSAGE, ROLELESS_VIEWS

pytestmark = pytest.mark.django_db


def _named_urls(patterns=None, namespace: str = ""):
    """(view name, path) for every named URL, its arguments filled with 1."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_urls(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}{entry.name}"
            kwargs = dict.fromkeys(entry.pattern.regex.groupindex, "1")
            try:
                yield name, reverse(name, kwargs=kwargs)
            except NoReverseMatch:
                continue  # an argument that "1" cannot fill (an admin app label); other names cover the page


@pytest.fixture
def roleless(make_user, client):
    client.force_login(make_user("nora"))
    return client


def test_a_user_without_a_role_gets_403_everywhere_but_the_exemptions(roleless):
    checked = []
    for name, path in _named_urls():
        if name in ROLELESS_VIEWS:
            continue
        for method in (roleless.get, roleless.post):
            response = method(path)
            assert response.status_code == 403, (name, path, method.__name__, response.status_code)
        checked.append(name)
    pages = {"dashboard", "registry:deployment-list", "reviews:review-detail", "reviews:sign-off", "audits:event-list"}
    endpoints = {"review-sign-off-list", "evaluation-suite-upload-results", "evaluation-run-list", "schema"}
    assert pages | endpoints <= set(checked)
    assert len(checked) > 100


def test_the_403_body_is_the_no_role_page_and_json_for_the_api(roleless):
    page = roleless.get("/")
    assert page.status_code == 403 and b"You have no role yet" in page.content
    api = roleless.get("/api/v1/deployments/")
    assert api.status_code == 403 and api.json() == {"detail": NO_ROLE_MESSAGE}


def test_the_exemptions_stay_open(roleless):
    assert roleless.get(reverse("me")).status_code == 200
    assert roleless.get(reverse("api-token-list")).status_code == 200
    assert roleless.get(reverse("password_change")).status_code == 200
    assert roleless.get(reverse("healthz")).status_code == 200
    assert roleless.post(reverse("logout")).status_code == 302


def test_a_role_opens_the_pages(make_user, client):
    client.force_login(make_user("ada", "auditor"))
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/deployments/").status_code == 200
