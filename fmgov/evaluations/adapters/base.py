"""The one interface every model adapter implements, and the shared HTTP machinery.

An adapter is built per run from the deployment's endpoint description
(``endpoint_adapter``, ``endpoint_base_url``, ``endpoint_model`` and the
admin-registered credential it names, with the hosts that credential may be
sent to). It offers ``chat()`` and/or ``embed()`` for one input, and ``map()``
to run many inputs with at most ``concurrency`` in flight. Every HTTP call goes
through the egress policy (``fmgov.core.egress``): checked address, no
redirects, capped response, one deadline. Calls are retried with exponential
backoff and jitter on 429, 5xx and connection errors (honouring
``Retry-After``); anything still failing raises ``EndpointUnusable`` whose
message is what the run records, and it never holds response body text or the
credential.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from fmgov.core.egress import EgressClient, EgressError

__all__ = [
    "AdapterError",
    "EndpointUnusable",
    "Completion",
    "EndpointConfig",
    "ModelAdapter",
    "HttpAdapter",
    "RetryPolicy",
]

T = TypeVar("T")
R = TypeVar("R")


class AdapterError(Exception):
    """The adapter cannot be built or used as configured."""


class EndpointUnusable(AdapterError):
    """The endpoint kept failing after retries; the message says why, for the run's error field."""


@dataclass
class Completion:
    text: str
    latency_s: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    attempts: int = 1  # tries it took; latency_s times the successful one only


@dataclass(repr=False)
class EndpointConfig:
    """What an adapter needs to reach the endpoint; ``credential_value`` is the secret itself.

    The credential is sent only to a host in ``credential_hosts`` ("host" or
    "host:port"), and the value never appears in the repr, an error or a log line.
    """

    base_url: str = ""
    model: str = ""
    credential_name: str = ""
    credential_value: str | None = None
    credential_hosts: tuple[str, ...] = ()
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    concurrency: int = 4
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        secret = "<hidden>" if self.credential_value else None
        return (
            f"EndpointConfig(base_url={self.base_url!r}, model={self.model!r}, "
            f"credential_name={self.credential_name!r}, credential_value={secret}, "
            f"credential_hosts={self.credential_hosts!r}, timeout_s={self.timeout_s!r}, "
            f"concurrency={self.concurrency!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                wait = float(retry_after)
            except ValueError:
                wait = math.nan
            if math.isfinite(wait):  # the endpoint's text: a negative or NaN wait would crash time.sleep
                return min(max(wait, 0.0), self.max_delay_s)
        backoff = min(self.base_delay_s * (2**attempt), self.max_delay_s)
        return backoff * (0.5 + random.random() / 2)  # jitter: avoid synchronised retries


RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class ModelAdapter:
    """Base adapter: bounded-concurrency ``map`` plus the capability methods subclasses implement."""

    name = "base"
    supports_chat = False
    supports_embeddings = False

    def __init__(self, config: EndpointConfig):
        self.config = config
        self.concurrency = max(1, int(config.concurrency))

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int = 256, temperature: float = 0.0) -> Completion:
        raise AdapterError(f"The {self.name} adapter does not serve chat completions.")

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise AdapterError(f"The {self.name} adapter does not serve embeddings.")

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        on_result: Callable[[int, R], None] | None = None,
    ) -> list[R]:
        """Apply ``fn`` to every item with at most ``concurrency`` calls in flight, preserving order.

        The first exception stops the submission of further work and is raised;
        ``on_result(done_count, result)`` runs in the calling thread (it may
        write progress to the database or raise to cancel).
        """
        items = list(items)
        results: list[Any] = [None] * len(items)
        if not items:
            return []
        # The pool's C threads are the bound on requests in flight; everything is
        # submitted at once and cancelled (those not started) on the first error.
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"{self.name}-") as pool:
            futures = {pool.submit(fn, item): index for index, item in enumerate(items)}
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    index = futures[future]
                    results[index] = future.result()
                    if on_result is not None:
                        on_result(done, results[index])
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return results

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _host_port(url: httpx.URL) -> tuple[str, int]:
    default = 443 if url.scheme == "https" else 80
    return url.host.lower().rstrip("."), url.port or default


def credential_allowed(url: httpx.URL, hosts: tuple[str, ...]) -> bool:
    """Whether the URL's host (any port) or host:port is one the credential may be sent to."""
    host, port = _host_port(url)
    shown = f"[{host}]" if ":" in host else host
    allowed = {entry.strip().lower().rstrip(".") for entry in hosts}
    return bool(allowed & {host, shown, f"{shown}:{port}"})


class HttpAdapter(ModelAdapter):
    """One egress client per run (pool sized to the concurrency) with retries and backoff."""

    retry = RetryPolicy()

    def __init__(self, config: EndpointConfig):
        super().__init__(config)
        if not config.base_url:
            raise AdapterError("The deployment has no endpoint base URL.")
        self._base = httpx.URL(config.base_url.rstrip("/"))
        self._headers = {"Content-Type": "application/json"}
        if config.credential_name:
            self._headers["Authorization"] = f"Bearer {self._checked_credential(config)}"
        self._egress = EgressClient(max_connections=self.concurrency)
        self._targets: dict[str, tuple[str, str]] = {}

    def _checked_credential(self, config: EndpointConfig) -> str:
        """The credential's value, once it is known to be usable and destined for an allowed host."""
        name = config.credential_name
        host, port = _host_port(self._base)
        if not credential_allowed(self._base, config.credential_hosts):
            raise AdapterError(
                f"The credential {name} may not be sent to {host}:{port}; it is registered for "
                f"{', '.join(config.credential_hosts) or 'no host'}."
            )
        value = config.credential_value or ""
        if not value:
            raise AdapterError(f"The credential {name} has no value on this worker.")
        if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
            # httpx's own error would quote the header value; refuse it here without doing so.
            raise AdapterError(f"The credential {name} holds characters an HTTP header cannot carry.")
        return value

    def _url(self, path: str) -> httpx.URL:
        """The base URL joined with an API path; a path can never change the host the credential goes to."""
        url = self._base.copy_with(path=self._base.path.rstrip("/") + "/" + path.lstrip("/"))
        if self.config.credential_name and not credential_allowed(url, self.config.credential_hosts):
            raise AdapterError(f"The credential {self.config.credential_name} may not be sent to {url.host}.")
        return url

    def _target(self, path: str) -> tuple[str, str]:
        """The URL for an API path and how errors name it, worked out once per path (not per request)."""
        target = self._targets.get(path)
        if target is None:
            url = self._url(path)
            target = self._targets[path] = (
                str(url),
                f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}",
            )
        return target

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        """POST with retries on 429/5xx/connection errors; refusals, limits and other 4xx fail at once."""
        return self.post_json_timed(path, payload)[0]

    def post_json_timed(self, path: str, payload: dict[str, Any]) -> tuple[Any, float, int]:
        """``post_json`` plus the seconds of the successful attempt alone (no failed tries, no back-off
        sleeps) and the number of attempts, so latency measures the endpoint, not the retry policy."""
        url, where = self._target(path)
        last_problem = ""
        for attempt in range(self.retry.attempts):
            retry_after = None
            started = time.perf_counter()
            try:
                response = self._egress.request(
                    "POST",
                    url,
                    json=payload,
                    headers=self._headers,
                    deadline_s=self.config.timeout_s,
                    connect_timeout_s=self.config.connect_timeout_s,
                )
            except EgressError as exc:
                if not exc.retryable:
                    raise EndpointUnusable(f"{where}: {exc}") from None
                last_problem = str(exc)
            else:
                if response.status_code < 400:
                    try:
                        return response.json(), time.perf_counter() - started, attempt + 1
                    except EgressError as exc:
                        raise EndpointUnusable(f"{where}: {exc}") from None
                last_problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise EndpointUnusable(f"{where} refused the request ({last_problem}).")
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 < self.retry.attempts:
                time.sleep(self.retry.delay(attempt, retry_after))
        raise EndpointUnusable(f"{where} still failing after {self.retry.attempts} attempts ({last_problem}).")

    def close(self) -> None:
        self._egress.close()
