"""Evaluation runs under the egress policy, and credentials that go only to their hosts (loopback listeners)."""

import time

import pytest

from audits.models import AuditEvent
from fmgov.core.testing.listener import Listener, drip, huge, json_answer, raw_answer, redirect
from fmgov.evaluations import services, tasks
from fmgov.evaluations.adapters import AdapterError, EndpointConfig, EndpointUnusable, RetryPolicy, build_adapter
from fmgov.evaluations.choices import RunState
from fmgov.evaluations.tests.factories import chat_deployment, suite

pytestmark = pytest.mark.django_db

SECRET = "sk-live-BODYSECRET-4f9a8b7c6d5e"
CHAT_OK = {"choices": [{"message": {"role": "assistant", "content": "I can't help with that."}}]}


def run_against(engineer, base_url: str):
    """Request a one-prompt refusal run and execute it in this process; return the finished run and its duration."""
    deployment = chat_deployment(engineer, base_url)
    s = suite(engineer, config={"limit": 1, "include_over_refusal": False}, concurrency=1)
    run = services.run_request(suite=s, deployment=deployment, actor=engineer)
    started = time.monotonic()
    tasks.execute_run.apply(args=[run.pk], task_id=f"eager-egress-{run.pk}").get()
    run.refresh_from_db()
    return run, time.monotonic() - started


def recorded_text(run) -> str:
    """Everything a user can read about the run's failure: its error and its audit events."""
    events = AuditEvent.objects.filter(object_id=str(run.pk)).values_list("changes", flat=True)
    return run.error + " ".join(str(changes) for changes in events)


def test_the_listener_answers_a_run_when_allowed(engineer):
    with Listener(json_answer(CHAT_OK)) as listener:
        run, _ = run_against(engineer, listener.url + "/v1")
    assert run.state == RunState.SUCCEEDED, run.error
    assert [seen.path for seen in listener.requests] == ["/v1/chat/completions"]


def test_a_loopback_listener_not_in_egress_allow_sees_nothing(engineer, settings):
    settings.EGRESS_ALLOW = ["127.0.0.1:1"]  # loopback is allowed on another port only
    with Listener(json_answer(CHAT_OK)) as listener:
        run, _ = run_against(engineer, listener.url + "/v1")
    assert run.state == RunState.FAILED
    assert "egress policy refuses 127.0.0.1" in run.error and "loopback" in run.error
    assert "EGRESS_ALLOW" in run.error
    assert listener.requests == []


def test_a_redirect_to_another_loopback_port_is_not_followed(engineer):
    with Listener(json_answer(CHAT_OK)) as other, Listener(redirect(other.url + "/v1/chat/completions", 307)) as first:
        run, _ = run_against(engineer, first.url + "/v1")
    assert run.state == RunState.FAILED and "answered 307 (a redirect)" in run.error
    assert len(first.requests) == 1 and other.requests == []


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_50_mb_response_ends_at_the_byte_cap(engineer, settings, declare_length):
    settings.EGRESS_MAX_RESPONSE_BYTES = 1024 * 1024
    with Listener(huge(50 * 1024 * 1024, declare_length=declare_length)) as listener:
        run, elapsed = run_against(engineer, listener.url + "/v1")
    assert run.state == RunState.FAILED and "EGRESS_MAX_RESPONSE_BYTES" in run.error
    assert len(listener.requests) == 1 and elapsed < 10
    assert "1,1,1" not in recorded_text(run)


def test_a_server_dripping_one_byte_a_second_ends_at_the_deadline(engineer, settings):
    settings.EGRESS_DEADLINE_S = 2.0
    with Listener(drip(1000, every_s=1.0)) as listener:
        run, elapsed = run_against(engineer, listener.url + "/v1")
    assert run.state == RunState.FAILED and "within the 2 s deadline" in run.error
    assert len(listener.requests) == 1  # a deadline is not retried: it is the whole budget
    assert elapsed < 6


@pytest.mark.parametrize(
    "answer",
    [
        json_answer({"error": {"message": f"bad key {SECRET}"}}, status=400),
        raw_answer(f"<html>{SECRET}</html>".encode(), content_type="text/html"),
        json_answer({"unexpected": SECRET}),
        json_answer({"choices": SECRET}),
    ],
    ids=["4xx", "not-json", "no-choices", "bad-choices"],
)
def test_the_run_error_never_contains_the_response_body(engineer, answer):
    with Listener(answer) as listener:
        run, _ = run_against(engineer, listener.url + "/v1")
    assert run.state == RunState.FAILED and run.error
    assert f"127.0.0.1:{listener.port}" in run.error or "endpoint answered without" in run.error
    assert SECRET not in recorded_text(run)


def test_retried_5xx_answers_name_the_status_only(engineer):
    with Listener(json_answer({"detail": SECRET}, status=503)) as listener:
        deployment = chat_deployment(engineer, listener.url + "/v1")
        adapter = build_adapter("openai_chat", EndpointConfig(base_url=deployment.endpoint_base_url, model="m"))
        adapter.retry = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)
        with adapter, pytest.raises(EndpointUnusable) as error:
            adapter.chat([{"role": "user", "content": "hi"}])
    assert str(error.value).endswith("still failing after 3 attempts (HTTP 503).")
    assert len(listener.requests) == 3 and SECRET not in str(error.value)


# --- Credentials --------------------------------------------------------------------------------

KEY = "sk-credential-VALUE-0123456789abcdef"


def credential_config(url: str, hosts: tuple[str, ...], value: str = KEY) -> EndpointConfig:
    return EndpointConfig(
        base_url=url + "/v1",
        model="m",
        credential_name="FMGOV_CREDENTIAL_SUPPORT",
        credential_value=value,
        credential_hosts=hosts,
    )


def test_a_credential_goes_to_its_host_and_never_to_another_allowed_host():
    with Listener(json_answer(CHAT_OK)) as allowed, Listener(json_answer(CHAT_OK)) as other:
        hosts = (f"127.0.0.1:{allowed.port}",)
        with build_adapter("openai_chat", credential_config(allowed.url, hosts)) as adapter:
            adapter.chat([{"role": "user", "content": "hi"}])
        with pytest.raises(AdapterError) as error:
            build_adapter("openai_chat", credential_config(other.url, hosts))
        with build_adapter("openai_chat", EndpointConfig(base_url=other.url + "/v1", model="m")) as adapter:
            adapter.chat([{"role": "user", "content": "hi"}])
    assert allowed.requests[0].headers["authorization"] == f"Bearer {KEY}"
    message = str(error.value)
    assert "FMGOV_CREDENTIAL_SUPPORT" in message and f"127.0.0.1:{other.port}" in message and KEY not in message
    assert len(other.requests) == 1 and "authorization" not in other.requests[0].headers


def test_a_credential_host_without_port_allows_any_port():
    with (
        Listener(json_answer(CHAT_OK)) as listener,
        build_adapter("openai_chat", credential_config(listener.url, ("127.0.0.1",))) as adapter,
    ):
        adapter.chat([{"role": "user", "content": "hi"}])
    assert listener.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_the_credential_value_never_shows_in_repr_or_errors():
    config = credential_config("http://127.0.0.1:9", ("127.0.0.1:9",))
    assert KEY not in repr(config) and KEY not in str(config) and "<hidden>" in repr(config)
    adapter = build_adapter("openai_chat", config)
    adapter.retry = RetryPolicy(attempts=1)
    with adapter, pytest.raises(EndpointUnusable) as error:
        adapter.chat([{"role": "user", "content": "hi"}])
    assert KEY not in str(error.value)
    for bad in (KEY + "\r\nX-Injected: 1", KEY + " space", ""):
        with pytest.raises(AdapterError) as refused:
            build_adapter("openai_chat", credential_config("http://127.0.0.1:9", ("127.0.0.1",), value=bad))
        assert KEY not in str(refused.value) and "FMGOV_CREDENTIAL_SUPPORT" in str(refused.value)
