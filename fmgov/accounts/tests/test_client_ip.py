"""fmgov.core.client_ip: X-Forwarded-For counts only as far as TRUSTED_PROXIES vouch for it.

No traffic: these build requests with RequestFactory and only set header values.
"""

import pytest
from django.test import RequestFactory, override_settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from fmgov.core.client_ip import client_ip, is_trusted_proxy, parse_networks

factory = RequestFactory()


def request_from(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return factory.get("/", **extra)


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_the_header_is_never_read():
    assert client_ip(request_from("198.51.100.9", "203.0.113.5")) == "198.51.100.9"
    assert client_ip(request_from("127.0.0.1", "203.0.113.5, 10.0.0.1")) == "127.0.0.1"


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_one_trusted_hop_names_the_address_it_appended():
    assert client_ip(request_from("127.0.0.1", "203.0.113.5")) == "203.0.113.5"
    # Whatever the client wrote itself stays left of what the proxy appended, and is ignored.
    assert client_ip(request_from("127.0.0.1", "6.6.6.6, 203.0.113.5")) == "203.0.113.5"
    # No header from the trusted proxy: the proxy is the client (e.g. its own health check).
    assert client_ip(request_from("127.0.0.1")) == "127.0.0.1"


@override_settings(TRUSTED_PROXIES=["127.0.0.1"])
def test_an_untrusted_peer_cannot_choose_its_address():
    assert client_ip(request_from("198.51.100.9", "203.0.113.5")) == "198.51.100.9"
    assert client_ip(request_from("198.51.100.9", "127.0.0.1")) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/24", "2001:db8::/32"])
def test_chains_of_trusted_proxies_and_cidrs_and_ipv6():
    assert client_ip(request_from("10.0.0.2", "203.0.113.5, 10.0.0.7")) == "203.0.113.5"
    assert client_ip(request_from("2001:db8::1", "2001:db8::2, 2001:db8::3")) == "2001:db8::2"
    assert client_ip(request_from("10.0.0.2", "[2001:db9::5]:4711")) == "2001:db9::5"
    assert client_ip(request_from("10.0.0.2", "203.0.113.5:4711")) == "203.0.113.5"
    # Garbage in the chain: the last address a trusted proxy vouched for, never the garbage.
    assert client_ip(request_from("10.0.0.2", "203.0.113.5, not-an-address")) == "10.0.0.2"
    assert is_trusted_proxy("::ffff:10.0.0.9") and not is_trusted_proxy("10.0.1.1") and not is_trusted_proxy(None)


def test_a_bad_trusted_proxy_entry_is_an_error_not_a_silent_skip():
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/24", "proxy.example.org"])


@override_settings(TRUSTED_PROXIES=[])
def test_drf_default_ident_ignores_the_header_too():
    """NUM_PROXIES=0: a throttle that does not use client_ip still cannot be steered by the header."""
    request = Request(request_from("198.51.100.9", "203.0.113.5"))
    assert BaseThrottle().get_ident(request) == "198.51.100.9"
