"""The receiver's check: the README snippet is the app's verify_signature, and it refuses forgeries and replays."""

import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings

from fmgov.webhooks.signing import sign, verify_signature

SECRET = "whsec_test-secret"
BODY = b'{"audit_event":{"sequence":7},"type":"review.approved"}'
NOW = 1_800_000_000


def readme_snippet() -> str:
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def readme_verify():
    namespace: dict = {}
    exec(compile(readme_snippet(), "README.md", "exec"), namespace)  # our own documentation
    return namespace["verify_signature"]


def test_the_readme_snippet_is_the_apps_function_verbatim():
    assert inspect.getsource(verify_signature) in readme_snippet()


@pytest.fixture(params=["app", "readme"])
def verify(request):
    return verify_signature if request.param == "app" else readme_verify()


def test_a_genuine_signature_verifies(verify):
    header = sign(SECRET, str(NOW), BODY)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify(SECRET, str(NOW), BODY, header, now=NOW + 299)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda t, b, h: (t, b + b" ", h), id="body changed"),
        pytest.param(lambda t, b, h: (t, b.replace(b"7", b"8"), h), id="a value changed"),
        pytest.param(lambda t, b, h: (str(int(t) + 1), b, h), id="timestamp changed"),
        pytest.param(lambda t, b, h: (t, b, sign("whsec_other", t, b)), id="another secret"),
        pytest.param(lambda t, b, h: (t, b, h.upper()), id="upper-case hex"),
        pytest.param(lambda t, b, h: (t, b, h.removeprefix("sha256=")), id="no prefix"),
        pytest.param(lambda t, b, h: (t, b, ""), id="no signature"),
        pytest.param(lambda t, b, h: (t, b, None), id="missing header"),
        pytest.param(lambda t, b, h: (f" {t}", b, h), id="padded timestamp"),
        pytest.param(lambda t, b, h: ("", b, h), id="empty timestamp"),
        pytest.param(lambda t, b, h: (None, b, h), id="missing timestamp"),
        # A hostile sender's header is text of any kind: each is a False, never an exception in the receiver.
        pytest.param(lambda t, b, h: (t, b, h[:-1] + "\u00e9"), id="non-ASCII signature"),
        pytest.param(lambda t, b, h: (t, b, "sha256=" + "\u0661" * 64), id="non-ASCII digits"),
        pytest.param(lambda t, b, h: (t, b, h.encode()), id="bytes header"),
        pytest.param(lambda t, b, h: (t + "\n", b, h), id="timestamp with a newline"),
        pytest.param(lambda t, b, h: ("\u0661" * 10, b, h), id="non-ASCII timestamp digits"),
        pytest.param(lambda t, b, h: (t, b.replace(b":", b": "), h), id="body re-serialised"),
    ],
)
def test_a_forged_or_altered_request_fails(verify, tamper):
    timestamp, body, header = tamper(str(NOW), BODY, sign(SECRET, str(NOW), BODY))
    assert not verify(SECRET, timestamp, body, header, now=NOW)


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_a_stale_or_future_timestamp_fails_even_when_correctly_signed(verify, age):
    timestamp = str(NOW - age)
    assert not verify(SECRET, timestamp, BODY, sign(SECRET, timestamp, BODY), now=NOW)


def test_the_tolerance_is_five_minutes_by_default_and_now_defaults_to_the_clock(verify):
    import time

    timestamp = str(int(time.time()))
    assert verify(SECRET, timestamp, BODY, sign(SECRET, timestamp, BODY))
    old = str(int(time.time()) - 301)
    assert not verify(SECRET, old, BODY, sign(SECRET, old, BODY))
