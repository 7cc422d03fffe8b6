"""/api/docs/ works offline: Swagger UI from the app's own static files, no inline script, the site's CSP."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.fixture
def docs(client, engineer):
    client.force_login(engineer)
    return client


def test_docs_page_loads_nothing_from_elsewhere(docs):
    response = docs.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn." not in html and "@latest" not in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(url.startswith("/") and not url.startswith("//") for url in sources), sources
    for url in sources:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), f"{url} is not a bundled static file"
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_docs_page_has_no_inline_script_and_the_sites_csp(docs):
    response = docs.get("/api/docs/")
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], "an inline script needs 'unsafe-inline'"
    policy = docs.get("/").headers["Content-Security-Policy"]
    assert response.headers["Content-Security-Policy"] == policy and "default-src 'self'" in policy


def test_docs_start_up_script_is_a_file_pointing_at_the_schema(docs):
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', docs.get("/api/docs/").content.decode()).group(1)
    response = docs.get(script_url.replace("&amp;", "&"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    body = response.content.decode()
    assert "SwaggerUIBundle(" in body and '"/api/schema/"' in body and '"validatorUrl": null' in body
