"""The egress policy: every outbound HTTP call a worker makes goes through here.

Workers call endpoints that engineers name (evaluation adapters), and later
webhooks, RFC 3161 timestamp authorities and witnesses. Without a policy each of
those is a server-side request forgery into loopback, the private network or the
cloud metadata service. So:

- ``check_destination(host, port)`` resolves a host once and refuses, whatever the
  name resolves to, loopback, private, link-local, multicast, unique-local,
  unspecified, reserved, carrier-grade NAT and cloud metadata addresses (also
  when embedded in IPv6), unless ``EGRESS_ALLOW`` lists them; with
  ``EGRESS_MODE=allowlist`` everything not listed is refused.
- ``EgressClient`` connects only to the addresses it checked (the check runs
  inside the connection itself, so a second DNS answer cannot swap the
  address), ignores proxy variables, never follows redirects, reads at most
  ``EGRESS_MAX_RESPONSE_BYTES`` and gives the whole request (connect, send,
  every read) one deadline. Its errors name the host, the status and the
  policy, never the response body.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from fmgov.core.egress_transport import PolicyTransport, request_deadline
from fmgov.core.jsonlimits import MAX_JSON_DEPTH, JSONTooDeep, loads_bounded

__all__ = [
    "EgressClient",
    "EgressConnectionError",
    "EgressError",
    "EgressLimitExceeded",
    "EgressPolicy",
    "EgressRefused",
    "EgressResponse",
    "check_destination",
    "refusal_reason",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services (AWS, GCP, Azure, Oracle: 169.254.169.254; AWS IPv6; ECS task
# metadata; Alibaba; Azure's wire server, which is a public address).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "168.63.129.16")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class EgressError(Exception):
    """An outbound call that did not produce a usable response; the message is safe to show and store."""

    retryable = False


class EgressRefused(EgressError):
    """The egress policy refuses the destination (nothing was sent)."""


class EgressLimitExceeded(EgressError):
    """The response was larger than the byte cap or did not finish before the deadline."""


class EgressConnectionError(EgressError):
    """The connection failed or broke; worth another attempt."""

    retryable = True


def refusal_reason(ip: IPAddress) -> str | None:
    """Why the default policy refuses this address, or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = refusal_reason(embedded)
            return f"{reason}, embedded in IPv6" if reason else None
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT, "carrier-grade NAT"),
        (isinstance(ip, ipaddress.IPv6Address) and ip in UNIQUE_LOCAL, "unique-local"),
        # fec0::/10 is deprecated but still routed inside some networks; Python counts it global.
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "site-local"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (not ip.is_global, "not globally routable"),
    )
    return next((reason for matched, reason in checks if matched), None)


@dataclass(frozen=True)
class AllowEntry:
    """One EGRESS_ALLOW item: a host name, an address or a CIDR network, with an optional port."""

    host: str = ""
    network: IPNetwork | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> AllowEntry:
        raw = text.strip().lower()
        host, port = raw, None
        if raw.startswith("["):  # [v6]:port or [v6]
            inside, _, rest = raw[1:].partition("]")
            host, port = inside, (rest[1:] if rest.startswith(":") else None)
        elif raw.count(":") == 1:  # host:port or v4:port (a bare IPv6 address has several colons)
            host, port = raw.split(":")
        try:
            port_number = int(port) if port is not None else None
        except ValueError:
            port_number = -1
        if not host or (port_number is not None and not 0 < port_number < 65536):
            raise ImproperlyConfigured(f"EGRESS_ALLOW entry {text!r} is not a host, host:port or CIDR.")
        try:
            return cls(network=ipaddress.ip_network(host, strict=False), port=port_number)
        except ValueError:
            if "/" in host or ":" in host:
                raise ImproperlyConfigured(f"EGRESS_ALLOW entry {text!r} is not a valid address or CIDR.") from None
            return cls(host=host.rstrip("."), port=port_number)

    def allows_host(self, host: str, port: int) -> bool:
        return bool(self.host) and self.host == host and self.port in (None, port)

    def allows_address(self, ip: IPAddress, port: int) -> bool:
        return self.network is not None and ip in self.network and self.port in (None, port)


@dataclass(frozen=True)
class EgressPolicy:
    """The policy in force; ``from_settings()`` reads it, tests may build their own."""

    mode: str = "public"
    allow: tuple[AllowEntry, ...] = ()
    max_response_bytes: int = 10 * 1024 * 1024
    deadline_s: float = 60.0
    connect_timeout_s: float = 5.0

    @classmethod
    def build(cls, *, mode: str = "public", allow: list[str] | tuple[str, ...] = (), **limits: Any) -> EgressPolicy:
        if mode not in ("public", "allowlist"):
            raise ImproperlyConfigured(f"EGRESS_MODE is {mode!r}; it must be 'public' or 'allowlist'.")
        return cls(mode=mode, allow=tuple(AllowEntry.parse(item) for item in allow if item.strip()), **limits)

    @classmethod
    def from_settings(cls) -> EgressPolicy:
        return cls.build(
            mode=getattr(settings, "EGRESS_MODE", "public"),
            allow=getattr(settings, "EGRESS_ALLOW", ()),
            max_response_bytes=int(getattr(settings, "EGRESS_MAX_RESPONSE_BYTES", 10 * 1024 * 1024)),
            deadline_s=float(getattr(settings, "EGRESS_DEADLINE_S", 60.0)),
            connect_timeout_s=float(getattr(settings, "EGRESS_CONNECT_TIMEOUT_S", 5.0)),
        )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host name resolves to, in the resolver's order (tests monkeypatch this)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EgressConnectionError(f"The host {host} could not be resolved ({exc.__class__.__name__}).") from None
    addresses: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def check_destination(host: str, port: int, *, policy: EgressPolicy | None = None) -> list[IPAddress]:
    """The addresses a call to host:port may connect to; ``EgressRefused`` naming the policy otherwise.

    Pure apart from name resolution: it never connects, so tests use it for
    addresses they must not send traffic to.
    """
    policy = policy or EgressPolicy.from_settings()
    name = host.strip().lower().rstrip(".").strip("[]")
    try:
        addresses: list[IPAddress] = [ipaddress.ip_address(name)]
    except ValueError:
        addresses = []
    if any(entry.allows_host(name, port) for entry in policy.allow):
        return addresses or resolve(name, port)
    if not addresses:
        addresses = resolve(name, port)
        if not addresses:
            raise EgressConnectionError(f"The host {host} resolved to no address.")
    for ip in addresses:
        if any(entry.allows_address(ip, port) for entry in policy.allow):
            continue
        if policy.mode == "allowlist":
            raise EgressRefused(
                f"The egress policy refuses {host}:{port} ({ip}): it is not listed in EGRESS_ALLOW "
                "and EGRESS_MODE=allowlist."
            )
        reason = refusal_reason(ip)
        if reason:
            shown = host if str(ip) == name else f"{host} ({ip})"
            raise EgressRefused(
                f"The egress policy refuses {shown} port {port}: a {reason} address, "
                "not listed in EGRESS_ALLOW (EGRESS_MODE=public allows public addresses only)."
            )
    return addresses


# --- The client --------------------------------------------------------------------------------


@functools.cache
def default_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~70 ms, too much per call."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class EgressResponse:
    """A complete, size-capped response. There is deliberately no ``text``: bodies are not for error messages."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    origin: str

    def json(self) -> Any:
        """The body as JSON, nested at most MAX_JSON_DEPTH levels; ``EgressError`` (without the body) otherwise."""
        try:
            return loads_bounded(self.content)
        except JSONTooDeep:
            raise EgressError(f"{self.origin} answered JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        except ValueError:
            raise EgressError(f"{self.origin} answered {self.status_code} with a body that is not JSON.") from None


class EgressClient:
    """An HTTP client under the egress policy; thread-safe, one per caller (e.g. per evaluation run)."""

    def __init__(self, *, policy: EgressPolicy | None = None, max_connections: int = 4):
        self.policy = policy or EgressPolicy.from_settings()
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        transport = PolicyTransport(
            check=functools.partial(check_destination, policy=self.policy),
            limits=limits,
            ssl_context=default_ssl_context(),
        )
        self._client = httpx.Client(transport=transport, follow_redirects=False, trust_env=False)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        deadline_s: float | None = None,
        connect_timeout_s: float | None = None,
        max_bytes: int | None = None,
    ) -> EgressResponse:
        """Send one request and read the whole capped response before the deadline.

        ``deadline_s``, ``connect_timeout_s`` and ``max_bytes`` may tighten the policy's limits, never widen them.
        ``content`` sends exact bytes instead of ``json`` (a body whose signature covers its bytes).
        """
        target = httpx.URL(url)
        origin = f"{target.scheme}://{target.netloc.decode('ascii', 'replace')}"
        if target.scheme not in ("http", "https") or not target.host:
            raise EgressRefused(f"The egress policy refuses {origin}: only http and https URLs with a host.")
        if target.userinfo:
            raise EgressRefused(f"The egress policy refuses {origin}: the URL carries credentials.")
        budget = min(self.policy.deadline_s, deadline_s or self.policy.deadline_s)
        cap = min(self.policy.max_response_bytes, max_bytes or self.policy.max_response_bytes)
        started = time.monotonic()
        connect = min(self.policy.connect_timeout_s, connect_timeout_s or self.policy.connect_timeout_s, budget)
        timeout = httpx.Timeout(budget, connect=connect)
        request = self._client.build_request(
            method,
            target,
            json=json,
            content=content,
            headers={"Accept-Encoding": "identity", **(headers or {})},
            timeout=timeout,
        )
        request_deadline.at = started + budget
        try:
            response = self._client.send(request, stream=True)
            try:
                return self._read(response, origin, cap)
            finally:
                response.close()
        except httpx.ConnectTimeout as exc:
            raise EgressConnectionError(
                f"ConnectTimeout: {origin} did not accept a connection in time ({exc.__class__.__name__})."
            ) from None
        except httpx.TimeoutException as exc:
            raise EgressLimitExceeded(
                f"{exc.__class__.__name__}: {origin} gave no complete answer within the {budget:g} s deadline "
                "(EGRESS_DEADLINE_S or the caller's limit)."
            ) from None
        except httpx.TransportError as exc:
            raise EgressConnectionError(f"{exc.__class__.__name__}: the connection to {origin} failed.") from None
        finally:
            request_deadline.at = None

    def _read(self, response: httpx.Response, origin: str, cap: int) -> EgressResponse:
        status = response.status_code
        if 300 <= status < 400:
            raise EgressRefused(f"{origin} answered {status} (a redirect); the egress policy never follows redirects.")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise EgressError(
                f"{origin} answered {status} with Content-Encoding {encoding!r}, which was not asked for."
            )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise EgressLimitExceeded(
                f"{origin} answered {status} with {int(declared)} bytes, over the {cap}-byte cap "
                "(EGRESS_MAX_RESPONSE_BYTES)."
            )
        body = bytearray()
        for chunk in response.iter_raw():
            body += chunk
            if len(body) > cap:
                raise EgressLimitExceeded(
                    f"{origin} answered {status} with more than {cap} bytes (EGRESS_MAX_RESPONSE_BYTES)."
                )
        return EgressResponse(status_code=status, headers=response.headers, content=bytes(body), origin=origin)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> EgressClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
