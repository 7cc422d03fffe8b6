"""Production settings: refuse to start without real secrets; pass the deploy checks; send the headers.

Each case runs in a subprocess with ``DJANGO_SETTINGS_MODULE=fmgov.settings.production``
because the settings module is what is under test, not an override of it.
"""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

REAL_SECRET = secrets.token_urlsafe(64)
REAL_AUDIT_KEY = secrets.token_urlsafe(32)


def _env(**overrides) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "AUDIT_CHECKPOINT_KEY", "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "fmgov.settings.production"
    env["ALLOWED_HOSTS"] = "fmgov.example.org,testserver"
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def _manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.parametrize(
    ("secret_key", "audit_key", "message"),
    [
        (None, REAL_AUDIT_KEY, "SECRET_KEY"),
        ("django-insecure-fmgov-development-key-do-not-use-in-production", REAL_AUDIT_KEY, "SECRET_KEY"),
        ("too-short-a-secret", REAL_AUDIT_KEY, "SECRET_KEY"),
        (REAL_SECRET, None, "AUDIT_CHECKPOINT_KEY"),
        (REAL_SECRET, "fmgov-development-checkpoint-key", "AUDIT_CHECKPOINT_KEY"),
    ],
    ids=["no-secret", "development-secret", "short-secret", "no-audit-key", "development-audit-key"],
)
def test_production_refuses_to_start_without_real_secrets(secret_key, audit_key, message):
    result = _manage("check", SECRET_KEY=secret_key, AUDIT_CHECKPOINT_KEY=audit_key)
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_passes_check_deploy_at_warning_level():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=REAL_SECRET, AUDIT_CHECKPOINT_KEY=REAL_AUDIT_KEY
    )
    assert result.returncode == 0, f"manage.py check --deploy failed:\n{result.stdout}\n{result.stderr}"
    assert "no issues" in result.stdout


HEADERS_PROBE = r"""
import json, django
django.setup()
from django.test import Client
client = Client()
out = {}
for name, path, secure in [("page", "/accounts/login/", True), ("api", "/api/v1/me/", True),
                           ("plain_http", "/accounts/login/", False)]:
    r = client.get(path, secure=secure, HTTP_HOST="fmgov.example.org")
    out[name] = {"status": r.status_code, "headers": dict(r.headers),
                 "cookies": {k: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]),
                                 "samesite": m["samesite"]} for k, m in r.cookies.items()},
                 "location": r.headers.get("Location", "")}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses():
    result = subprocess.run(
        [sys.executable, "-c", HEADERS_PROBE],
        cwd=settings.BASE_DIR,
        env=_env(SECRET_KEY=REAL_SECRET, AUDIT_CHECKPOINT_KEY=REAL_AUDIT_KEY),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("kind", ["page", "api"])
def test_production_security_headers(production_responses, kind):
    response = production_responses[kind]
    assert response["status"] < 500
    headers = {k.lower(): v for k, v in response["headers"].items()}
    csp = headers.get("content-security-policy", "")
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'self'"):
        assert directive in csp, f"CSP lacks {directive!r}: {csp!r}"
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("referrer-policy") == "same-origin"
    assert headers.get("x-content-type-options") == "nosniff"
    hsts = headers.get("strict-transport-security", "")
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts, hsts
    assert headers.get("cross-origin-opener-policy") == "same-origin"


def test_production_cookies_are_secure(production_responses):
    cookies = production_responses["page"]["cookies"]
    assert "csrftoken" in cookies, "the login page sets no CSRF cookie"
    for name, flags in cookies.items():
        assert flags["secure"], f"cookie {name} is sent over plain HTTP"


def test_production_redirects_plain_http_to_https(production_responses):
    response = production_responses["plain_http"]
    assert response["status"] == 301
    assert response["location"].startswith("https://fmgov.example.org/")


@pytest.mark.parametrize("public_key", ["", "bm90IGEga2V5"], ids=["missing", "not-32-bytes"])
def test_production_refuses_to_start_without_the_credential_public_key(public_key):
    result = _manage(
        "check", SECRET_KEY=REAL_SECRET, AUDIT_CHECKPOINT_KEY=REAL_AUDIT_KEY, CREDENTIAL_PUBLIC_KEY=public_key
    )
    assert result.returncode != 0 and "CREDENTIAL_PUBLIC_KEY" in result.stderr
