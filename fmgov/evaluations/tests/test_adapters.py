"""Adapters against the local OpenAI-compatible server: retries, backoff, bounded concurrency.

Credentials and the egress policy: test_egress_runs.py.
"""

import threading
import time

import pytest

from fmgov.core.testing.listener import Listener
from fmgov.evaluations.adapters import AdapterError, EndpointConfig, EndpointUnusable, RetryPolicy, build_adapter
from fmgov.evaluations.adapters.openai_chat import OpenAIChatAdapter
from fmgov.evaluations.testing.fake_openai import REFUSAL_TEXT, Behaviour


def chat(server, **kwargs):
    adapter = build_adapter("openai_chat", EndpointConfig(base_url=server.base_url, model="m", **kwargs))
    adapter.retry = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05)
    return adapter


def test_chat_completion_shape_and_usage(fake_openai):
    fake_openai.behaviour = Behaviour(mode="refuse")
    with chat(fake_openai) as adapter:
        completion = adapter.chat([{"role": "user", "content": "hello there"}])
    assert completion.text == REFUSAL_TEXT
    assert completion.prompt_tokens == 2 and completion.completion_tokens == len(REFUSAL_TEXT.split())
    assert completion.finish_reason == "stop" and completion.latency_s > 0


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_failures_are_retried(fake_openai, status):
    fake_openai.behaviour = Behaviour(fail_first=2, fail_status=status)
    with chat(fake_openai) as adapter:
        assert adapter.chat([{"role": "user", "content": "hi"}]).text
    assert fake_openai.stats[status] == 2 and fake_openai.stats[200] == 1


def test_persistent_failure_raises_a_clear_error(fake_openai):
    fake_openai.behaviour = Behaviour(always_status=429)
    with (
        chat(fake_openai) as adapter,
        pytest.raises(EndpointUnusable, match=r"still failing after 4 attempts \(HTTP 429"),
    ):
        adapter.chat([{"role": "user", "content": "hi"}])
    assert fake_openai.stats[429] == 4


def test_client_errors_are_not_retried(fake_openai):
    adapter = build_adapter("openai_chat", EndpointConfig(base_url=fake_openai.base_url + "/nowhere/x", model="m"))
    with adapter, pytest.raises(EndpointUnusable, match="refused the request"):
        adapter.post_json("/other", {})
    assert fake_openai.stats[404] == 1


def test_connection_refused_is_retried_then_reported():
    adapter = OpenAIChatAdapter(EndpointConfig(base_url="http://127.0.0.1:9/v1", model="m", connect_timeout_s=0.5))
    adapter.retry = RetryPolicy(attempts=2, base_delay_s=0.01)
    with adapter, pytest.raises(EndpointUnusable, match="ConnectError"):
        adapter.chat([{"role": "user", "content": "hi"}])


def test_timeout_is_reported(fake_openai):
    fake_openai.behaviour = Behaviour(delay_s=0.5)
    adapter = chat(fake_openai, timeout_s=0.1)
    adapter.retry = RetryPolicy(attempts=1)
    with adapter, pytest.raises(EndpointUnusable, match="ReadTimeout"):
        adapter.chat([{"role": "user", "content": "hi"}])


def test_map_keeps_at_most_concurrency_requests_in_flight(fake_openai):
    fake_openai.behaviour = Behaviour(delay_s=0.05)
    in_flight, peak, lock = 0, 0, threading.Lock()
    adapter = chat(fake_openai, concurrency=3)

    def call(i):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return adapter.chat([{"role": "user", "content": str(i)}]).text
        finally:
            with lock:
                in_flight -= 1

    started = time.perf_counter()
    results = adapter.map(call, range(12))
    elapsed = time.perf_counter() - started
    adapter.close()
    assert len(results) == 12 and peak == 3
    assert elapsed >= 4 * 0.05  # 12 requests, 3 at a time, 50 ms each


def test_map_stops_at_the_first_error_and_raises_it(fake_openai):
    calls = []

    def call(i):
        calls.append(i)
        if i == 2:
            raise ValueError("boom")
        time.sleep(0.01)
        return i

    adapter = chat(fake_openai, concurrency=2)
    with pytest.raises(ValueError, match="boom"):
        adapter.map(call, range(50))
    assert len(calls) < 50


def test_embeddings_adapter_batches_and_orders(fake_openai):
    adapter = build_adapter("openai_embeddings", EndpointConfig(base_url=fake_openai.base_url, model="e"))
    adapter.batch_size = 4
    with adapter:
        vectors = adapter.embed([f"word {i}" for i in range(10)])
        again = adapter.embed(["word 7"])
    assert len(vectors) == 10 and vectors[7] == again[0]
    assert fake_openai.stats[200] == 4  # 3 batches + 1


@pytest.mark.django_db
def test_unknown_adapter_and_unregistered_local_model():
    with pytest.raises(AdapterError, match="evaluations need one of"):
        build_adapter("none", EndpointConfig())
    for spec in ("package:no_such_pkg_here", "/tmp"):  # the local adapter loads registered models only
        with pytest.raises(AdapterError, match="not a registered local model"):
            build_adapter("local_sentence_transformers", EndpointConfig(model=spec))


@pytest.mark.parametrize("retry_after", ["-5", "nan", "1e400", "-inf"])
def test_a_hostile_retry_after_is_a_short_wait_not_a_crash(retry_after):
    """An endpoint's Retry-After is its text: a negative or NaN value must not crash the run (time.sleep raises)."""

    def busy(handler):
        handler.send_response(503)
        handler.send_header("Retry-After", retry_after)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with Listener(busy) as listener:
        adapter = OpenAIChatAdapter(EndpointConfig(base_url=listener.url + "/v1", model="m"))
        adapter.retry = RetryPolicy(attempts=2, base_delay_s=0.01, max_delay_s=0.05)
        started = time.monotonic()
        with adapter, pytest.raises(EndpointUnusable, match=r"after 2 attempts \(HTTP 503\)"):
            adapter.chat([{"role": "user", "content": "hi"}])
    assert len(listener.requests) == 2 and time.monotonic() - started < 5
