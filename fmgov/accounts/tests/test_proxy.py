"""Behind a reverse proxy: lockouts and throttles per client, X-Forwarded-For only from trusted proxies.

Requests go through Django's test client (no sockets); the addresses below are
only header values. The cross-process test starts two Python processes that
share the session's Redis.
"""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from audits.models import AuditEvent
from fmgov.accounts.throttling import ClientScopedRateThrottle

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-staple"
LOGIN = "/api/v1/auth/token/"
ONE_HOP = override_settings(TRUSTED_PROXIES=["127.0.0.1"])  # the test client's peer is 127.0.0.1
ROOT = Path(settings.BASE_DIR)


def login(client: APIClient, password: str, **extra) -> int:
    return client.post(LOGIN, {"username": "erin", "password": password}, format="json", **extra).status_code


@ONE_HOP
def test_failed_logins_from_one_client_lock_only_that_client(engineer):
    offender, colleague = {"HTTP_X_FORWARDED_FOR": "203.0.113.5"}, {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    client = APIClient()
    assert [login(client, "bad", **offender) for _ in range(3)] == [400, 400, 429]
    assert login(client, PASSWORD, **offender) == 429
    # Same username, same proxy, another client: not locked out.
    assert login(client, PASSWORD, **colleague) == 200
    lockouts = AuditEvent.objects.filter(action="auth.locked_out")
    assert {(event.context["ip_address"], event.context["ip"]) for event in lockouts} == {("203.0.113.5",) * 2}
    failed = AuditEvent.objects.filter(action="auth.login_failed").values_list("context__ip", flat=True)
    assert set(failed) == {"203.0.113.5"}


@ONE_HOP
def test_page_logins_are_locked_per_client_too(client, engineer):
    def page_login(password: str, address: str) -> int:
        data = {"username": "erin", "password": password}
        return client.post("/accounts/login/", data, HTTP_X_FORWARDED_FOR=address).status_code

    assert [page_login("bad", "203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert page_login(PASSWORD, "203.0.113.5") == 429
    assert page_login(PASSWORD, "198.51.100.7") == 302


@override_settings(TRUSTED_PROXIES=["10.0.0.2"])
def test_forwarded_for_from_an_untrusted_peer_is_ignored(engineer):
    client = APIClient()  # peer 127.0.0.1, which is not the trusted proxy
    codes = [login(client, "bad", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") for n in range(1, 4)]
    assert codes == [400, 400, 429]
    # A fresh made-up address does not get the attacker out of the lockout.
    assert login(client, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99") == 429
    lockouts = AuditEvent.objects.filter(action="auth.locked_out")
    assert {event.context["ip_address"] for event in lockouts} == {"127.0.0.1"}


def test_the_login_throttle_counts_per_client_behind_the_proxy(monkeypatch):
    monkeypatch.setattr(ClientScopedRateThrottle, "THROTTLE_RATES", {"login": "3/min"})
    client = APIClient()
    first, second = f"203.0.113.{random.randint(1, 254)}", f"198.51.100.{random.randint(1, 254)}"
    with ONE_HOP:
        assert [client.post(LOGIN, {}, HTTP_X_FORWARDED_FOR=first).status_code for _ in range(4)] == [400] * 3 + [429]
        assert client.post(LOGIN, {}, HTTP_X_FORWARDED_FOR=second).status_code == 400
    # Not trusted: rotating the header does not spread the count.
    peer = f"192.0.2.{random.randint(1, 254)}"
    codes = [client.post(LOGIN, {}, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}").status_code for n in range(4)]
    assert codes == [400] * 3 + [429]


SCRIPT = """
import json, os, sys
import django
django.setup()
from django.test import Client
client = Client()
codes = [
    client.post("/api/v1/auth/token/", data="{}", content_type="application/json",
                HTTP_X_FORWARDED_FOR=os.environ["CLIENT"]).status_code
    for _ in range(int(sys.argv[1]))
]
print(json.dumps(codes))
"""


def run_client_process(count: int, address: str) -> list[int]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fmgov.settings.test",
        "FMGOV_TEST_LOGIN_THROTTLE_RATE": "4/min",
        "TRUSTED_PROXIES": "127.0.0.1",
        "CLIENT": address,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(count)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(
    not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"),
    reason="needs a shared cache: set CACHE_URL or a redis:// CELERY_BROKER_URL (the PostgreSQL+Redis CI pass does)",
)
def test_the_throttle_holds_across_two_processes_sharing_redis():
    address = f"203.0.113.{random.randint(1, 254)}"
    assert run_client_process(3, address) == [400, 400, 400]
    # A second process, its own memory, the same Redis: one request left, then refused.
    assert run_client_process(3, address) == [400, 429, 429]
