"""The client's address, as far as the trusted proxies vouch for it.

One setting, ``TRUSTED_PROXIES`` (addresses and CIDRs), decides whether
``X-Forwarded-For`` means anything. The peer (``REMOTE_ADDR``) is the client
unless it is a trusted proxy; then the header is read from the right, hop by
hop, skipping trusted proxies, and the first address no trusted proxy stands
for is the client. Everything left of it was written by that client and is
ignored. With no trusted proxies the header is never read. django-axes
(``AXES_CLIENT_IP_CALLABLE``), DRF throttles and the audit context all call
``client_ip``, so a lockout, a throttle and an audit event name the same
address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

__all__ = ["client_ip", "parse_networks", "is_trusted_proxy"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """CIDRs or single addresses; a bad entry is a configuration error, not a silent skip."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip())


@lru_cache(maxsize=8)
def _trusted(values: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(values)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[::1]:1234" as some proxies write it
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.5:1234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address: str | None) -> bool:
    """Whether ``address`` is one of ``TRUSTED_PROXIES``."""
    parsed = _address(address)
    if parsed is None:
        return False
    networks = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return any(parsed.version == network.version and parsed in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client; ``X-Forwarded-For`` counts only as far as trusted proxies wrote it."""
    peer = request.META.get("REMOTE_ADDR") or None
    if not is_trusted_proxy(peer):
        parsed = _address(peer)
        return str(parsed) if parsed is not None else peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    current = peer
    for hop in reversed(hops):
        parsed = _address(hop)
        if parsed is None:
            # Garbage in the chain: the last address a trusted proxy vouched for is all we know.
            break
        current = str(parsed)
        if not is_trusted_proxy(current):
            return current
    return str(_address(current) or current) if current else None
