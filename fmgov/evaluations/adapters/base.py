"""The one interface every model adapter implements, and the shared HTTP machinery.

An adapter is built per run from the deployment's endpoint description
(``endpoint_adapter``, ``endpoint_base_url``, ``endpoint_model`` and the NAME of
the environment variable holding the credential). It offers ``chat()`` and/or
``embed()`` for one input, and ``map()`` to run many inputs with at most
``concurrency`` in flight. HTTP calls are retried with exponential backoff and
jitter on 429, 5xx and connection errors (honouring ``Retry-After``); anything
still failing raises ``EndpointUnusable`` whose message is what the run records.
"""

from __future__ import annotations

import functools
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

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


@dataclass
class EndpointConfig:
    base_url: str = ""
    model: str = ""
    api_key_env: str = ""
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    concurrency: int = 4
    extra: dict[str, Any] = field(default_factory=dict)

    def api_key(self) -> str | None:
        """The credential, read from the environment variable the deployment names (never stored)."""
        if not self.api_key_env:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise AdapterError(
                f"The deployment names the environment variable {self.api_key_env} for its credential, "
                "but it is not set on this worker."
            )
        return value


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.2
    max_delay_s: float = 8.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.max_delay_s)
            except ValueError:
                pass
        backoff = min(self.base_delay_s * (2**attempt), self.max_delay_s)
        return backoff * (0.5 + random.random() / 2)  # jitter: avoid synchronised retries


RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process: loading the CA bundle costs ~70 ms, too much per run."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


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


class HttpAdapter(ModelAdapter):
    """Shared httpx client (one per run, pool sized to the concurrency) with retries and backoff."""

    retry = RetryPolicy()

    def __init__(self, config: EndpointConfig):
        super().__init__(config)
        if not config.base_url:
            raise AdapterError("The deployment has no endpoint base URL.")
        headers = {"Content-Type": "application/json"}
        key = config.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
            verify=_ssl_context(),
        )
        self._closed = threading.Event()

    def post_json(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with retries on 429/5xx/connection errors; 4xx other than those fail at once."""
        last_problem = ""
        for attempt in range(self.retry.attempts):
            try:
                response = self._client.post(path, json=payload)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                retry_after = None
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError:
                        raise EndpointUnusable(
                            f"{self._client.base_url}{path} answered {response.status_code} "
                            "with a body that is not JSON."
                        )
                last_problem = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in RETRYABLE_STATUS:
                    raise EndpointUnusable(f"{self._client.base_url}{path} refused the request ({last_problem}).")
                retry_after = response.headers.get("Retry-After")
            if attempt + 1 < self.retry.attempts:
                time.sleep(self.retry.delay(attempt, retry_after))
        raise EndpointUnusable(
            f"{self._client.base_url}{path} still failing after {self.retry.attempts} attempts ({last_problem})."
        )

    def close(self) -> None:
        self._client.close()
