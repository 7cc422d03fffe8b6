"""The socket side of the egress policy (``fmgov.core.egress``): httpx on a checked, deadline-bound backend.

``PolicyTransport`` is httpx's own transport whose connection pool opens TCP
connections through ``_PolicyBackend``: the destination check runs inside the
connection, and the socket goes to an address that check returned, so a
second DNS answer can never swap it. Every read and write is clamped to the
current request's deadline (``request_deadline.at``, per thread: httpx's sync
I/O runs in the calling thread), so a server dripping a byte at a time cannot
outlast it. Proxy variables are ignored.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

__all__ = ["PolicyTransport", "request_deadline"]

request_deadline = threading.local()  # the current request's deadline (monotonic); httpx's sync I/O runs in the caller


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """The per-operation timeout clamped to what is left of the request's deadline."""
    at = getattr(request_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline (a drip cannot outlast it)."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PolicyBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the policy checked, resolved once per connection.

    TLS still verifies the certificate against the host name (httpcore passes the
    name, not the address, as the server name).
    """

    def __init__(self, check: Callable[[str, int], list[Any]]):
        self._check = check
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        problem: Exception | None = None
        for ip in self._check(host, port):
            try:
                stream = self._inner.connect_tcp(
                    str(ip), port, _remaining(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                problem = exc
                continue
            return _DeadlineStream(stream)
        raise problem or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None):
        raise httpcore.ConnectError("the egress policy allows TCP connections only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class PolicyTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool on the policy backend; proxies from the environment ignored."""

    def __init__(
        self, *, check: Callable[[str, int], list[Any]], limits: httpx.Limits, ssl_context: ssl.SSLContext
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx has no public hook for httpcore's network backend: replace the pool it built (httpx is
        # pinned; test_the_connection_goes_to_the_checked_address_without_a_second_lookup fails if this breaks).
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PolicyBackend(check),
        )
