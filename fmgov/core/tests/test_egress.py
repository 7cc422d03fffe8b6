"""The egress policy: the address check (never connecting to what it refuses) and the client (loopback only)."""

import ipaddress
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from fmgov.core import egress
from fmgov.core.egress import (
    EgressClient,
    EgressConnectionError,
    EgressLimitExceeded,
    EgressPolicy,
    EgressRefused,
    check_destination,
)
from fmgov.core.testing.listener import Listener, drip, huge, json_answer, raw_answer, redirect

DEFAULT = EgressPolicy.build()


def fake_resolver(monkeypatch, table: dict[str, list[str]]) -> list[str]:
    """Answer from ``table`` instead of DNS; returns the list of names asked, to show when resolution happened."""
    asked: list[str] = []

    def resolve(host, port):
        asked.append(host)
        return [ipaddress.ip_address(a) for a in table[host]]

    monkeypatch.setattr(egress, "resolve", resolve)
    return asked


@pytest.mark.parametrize(
    "host, reason",
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("172.16.0.5", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("100.100.100.200", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.64.1.1", "carrier-grade NAT"),
        ("[::1]", "loopback"),
        ("::ffff:127.0.0.1", "loopback, embedded in IPv6"),
        ("::ffff:169.254.169.254", "cloud metadata, embedded in IPv6"),
        ("64:ff9b::a00:1", "private, embedded in IPv6"),
        ("fc00::1", "unique-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("fec0::1", "site-local"),
        ("::ffff:10.0.0.1", "private, embedded in IPv6"),
        ("0x7f.1", "loopback"),
        ("2130706433", "loopback"),
        ("127.1", "loopback"),
        ("[::ffff:7f00:1]", "loopback, embedded in IPv6"),
        ("2002:7f00:1::", "loopback, embedded in IPv6"),
    ],
)
def test_the_default_policy_refuses_internal_addresses_without_connecting(host, reason):
    with pytest.raises(EgressRefused) as refused:
        check_destination(host, 80, policy=DEFAULT)
    assert f"a {reason} address" in str(refused.value)
    assert "EGRESS_ALLOW" in str(refused.value) and "EGRESS_MODE=public" in str(refused.value)


def test_a_name_resolving_to_loopback_is_refused(monkeypatch):
    fake_resolver(monkeypatch, {"innocent.example": ["127.0.0.1"]})
    with pytest.raises(EgressRefused, match=r"innocent\.example \(127\.0\.0\.1\) port 443: a loopback address"):
        check_destination("innocent.example", 443, policy=DEFAULT)


def test_one_internal_address_among_public_ones_refuses_the_name(monkeypatch):
    fake_resolver(monkeypatch, {"mixed.example": ["93.184.215.14", "10.1.2.3"]})
    with pytest.raises(EgressRefused, match="private"):
        check_destination("mixed.example", 443, policy=DEFAULT)


def test_public_addresses_pass_the_check_only(monkeypatch):
    """Checked, never connected to: tests send nothing beyond loopback."""
    assert check_destination("93.184.215.14", 443, policy=DEFAULT) == [ipaddress.ip_address("93.184.215.14")]
    assert check_destination("2606:4700::6810:84e5", 443, policy=DEFAULT)
    fake_resolver(monkeypatch, {"api.example.com": ["8.8.8.8", "2001:4860:4860::8888"]})
    assert [str(ip) for ip in check_destination("api.example.com", 443, policy=DEFAULT)] == [
        "8.8.8.8",
        "2001:4860:4860::8888",
    ]


def test_allow_entries_by_address_cidr_and_port():
    policy = EgressPolicy.build(allow=["10.2.0.0/16", "127.0.0.1:8001", "[::1]:9000"])
    assert check_destination("10.2.3.4", 80, policy=policy)
    assert check_destination("127.0.0.1", 8001, policy=policy)
    assert check_destination("::1", 9000, policy=policy)
    for host, port in [("10.3.0.1", 80), ("127.0.0.1", 8002), ("::1", 9001)]:
        with pytest.raises(EgressRefused):
            check_destination(host, port, policy=policy)


def test_a_listed_host_name_is_allowed_whatever_it_resolves_to(monkeypatch):
    fake_resolver(monkeypatch, {"llm.internal": ["10.9.8.7"], "other.internal": ["10.9.8.7"]})
    policy = EgressPolicy.build(allow=["LLM.internal:8443"])
    assert [str(ip) for ip in check_destination("llm.internal", 8443, policy=policy)] == ["10.9.8.7"]
    for host, port in [("llm.internal", 443), ("other.internal", 8443)]:
        with pytest.raises(EgressRefused):
            check_destination(host, port, policy=policy)


def test_allowlist_mode_refuses_everything_not_listed(monkeypatch):
    fake_resolver(monkeypatch, {"api.example.com": ["8.8.8.8"], "api.openai.example": ["8.8.4.4"]})
    policy = EgressPolicy.build(mode="allowlist", allow=["api.openai.example", "203.0.113.0/24"])
    with pytest.raises(EgressRefused, match="EGRESS_MODE=allowlist"):
        check_destination("api.example.com", 443, policy=policy)
    with pytest.raises(EgressRefused, match="EGRESS_MODE=allowlist"):
        check_destination("93.184.215.14", 443, policy=policy)
    assert check_destination("api.openai.example", 443, policy=policy)
    assert check_destination("203.0.113.9", 443, policy=policy)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "host:notaport", "host:0", "::1/200", ":80"])
def test_bad_configuration_is_refused_at_start(entry):
    with pytest.raises(ImproperlyConfigured, match="EGRESS_ALLOW"):
        EgressPolicy.build(allow=[entry])
    with pytest.raises(ImproperlyConfigured, match="EGRESS_MODE"):
        EgressPolicy.build(mode="open")


def test_test_settings_allow_exactly_the_loopback_address_the_tests_use():
    policy = EgressPolicy.from_settings()
    assert check_destination("127.0.0.1", 12345, policy=policy)
    for host in ("127.0.0.2", "::1", "10.0.0.1"):
        with pytest.raises(EgressRefused):
            check_destination(host, 12345, policy=policy)


# --- The client, against loopback listeners only ------------------------------------------------


def test_a_refused_destination_is_never_contacted(settings):
    settings.EGRESS_ALLOW = []
    with Listener() as listener, EgressClient() as client, pytest.raises(EgressRefused, match="loopback"):
        client.request("GET", listener.url + "/x")
    assert listener.requests == []


def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(monkeypatch):
    """A name only our resolver knows still arrives: the socket was opened to the address that was checked."""
    asked = fake_resolver(monkeypatch, {"model.test": ["127.0.0.1"]})
    with Listener(json_answer({"ok": 1})) as listener, EgressClient() as client:
        response = client.request("GET", f"http://model.test:{listener.port}/v1/ping")
    assert response.json() == {"ok": 1}
    assert asked == ["model.test"]
    assert listener.requests[0].headers["host"] == f"model.test:{listener.port}"


def test_redirects_are_not_followed(settings):
    with (
        Listener() as elsewhere,
        Listener(redirect(elsewhere.url + "/steal")) as first,
        EgressClient() as client,
        pytest.raises(EgressRefused, match="answered 302 .*never follows redirects"),
    ):
        client.request("GET", first.url + "/v1")
    assert len(first.requests) == 1 and elsewhere.requests == []


def test_proxy_variables_are_ignored(monkeypatch):
    with Listener() as proxy, Listener(json_answer({"direct": True})) as target:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        with EgressClient() as client:
            assert client.request("GET", target.url).json() == {"direct": True}
    assert proxy.requests == []


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_50_mb_response_stops_at_the_cap(settings, declare_length):
    settings.EGRESS_MAX_RESPONSE_BYTES = 256 * 1024
    with Listener(huge(50 * 1024 * 1024, declare_length=declare_length)) as listener, EgressClient() as client:
        started = time.monotonic()
        with pytest.raises(EgressLimitExceeded, match="262144.*EGRESS_MAX_RESPONSE_BYTES"):
            client.request("GET", listener.url)
    assert time.monotonic() - started < 5


def test_a_server_dripping_a_byte_a_second_ends_at_the_deadline(settings):
    settings.EGRESS_DEADLINE_S = 1.5
    with Listener(drip(100, every_s=0.4)) as listener, EgressClient() as client:
        started = time.monotonic()
        with pytest.raises(EgressLimitExceeded, match="within the 1.5 s deadline"):
            client.request("GET", listener.url)
        elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 2.5


def test_errors_name_host_and_status_never_the_body():
    secret = b"<html>upstream said: sk-live-BODYSECRET-4f9a8b7c6d5e</html>"
    with Listener(raw_answer(secret, status=200, content_type="text/html")) as listener, EgressClient() as client:
        response = client.request("GET", listener.url)
        with pytest.raises(egress.EgressError) as error:
            response.json()
    assert str(error.value) == f"{listener.url} answered 200 with a body that is not JSON."
    assert not hasattr(response, "text")


def test_json_nested_too_deep_is_refused():
    with (
        Listener(raw_answer(b"[" * 100 + b"]" * 100)) as listener,
        EgressClient() as client,
        pytest.raises(egress.EgressError, match="nested deeper than 64"),
    ):
        client.request("GET", listener.url).json()


def test_other_schemes_and_urls_with_credentials_are_refused():
    with EgressClient() as client:
        for url in ("file:///etc/passwd", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1:1/"):
            with pytest.raises(EgressRefused):
                client.request("GET", url)


def test_connection_failures_are_retryable_errors():
    with EgressClient() as client, pytest.raises(EgressConnectionError, match="ConnectError") as error:
        client.request("GET", "http://127.0.0.1:9/")
    assert error.value.retryable
