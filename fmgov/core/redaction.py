"""Credential scrubbing for free text that users upload (lm-eval configs, model cards, endpoint URLs).

Uploaded files often carry a real token (``model_args="...,token=hf_..."``)
that would otherwise be stored, shown to every role and embedded in PDFs.
Known credential formats and high-entropy values after secret-named keys are
replaced by ``[REDACTED:<kind>]`` before anything is stored. Placeholders
(``YOUR_HUGGINGFACE_API_KEY``, ``use_auth_token=True``, ``$HF_TOKEN``) are not
secrets and stay, so documentation-style text reads as written.

Redaction is idempotent: the markers it writes match none of its patterns.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Redacted", "redact_text", "redact_url", "redact_mapping", "is_secret_key", "looks_like_secret"]


@dataclass(frozen=True)
class Redacted:
    """Text after redaction and the kinds of credential that were removed (sorted, unique)."""

    text: str
    kinds: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def _marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# A value that names where a secret comes from, or stands for one, is not a secret.
_PLACEHOLDER_WORDS = {"none", "null", "true", "false", "nil", "undefined", "changeme", "redacted", "secret", "password"}
_PLACEHOLDER_MARKERS = ("[redacted:", "your", "example", "placeholder", "xxxx", "****", "...", "<", ">", "{{", "}}")
_ENV_NAME = re.compile(r"^[A-Z_]+$")
_MIN_SECRET_LENGTH = 10
_MIN_ENTROPY_BITS = 3.0


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character: random tokens score high, words and repeats low."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _is_reference(value: str) -> bool:
    """A variable reference or a template (``$HF_TOKEN``, ``<your token>``, ``YOUR_KEY``, ``xxx``)."""
    stripped = value.strip("\"'")
    if not stripped or stripped[0] in "$%<{" or _ENV_NAME.match(stripped) or len(set(stripped)) == 1:
        return True
    return any(marker in stripped.lower() for marker in _PLACEHOLDER_MARKERS)


def _is_placeholder(value: str) -> bool:
    lowered = value.strip("\"'").lower()
    return _is_reference(value) or lowered in _PLACEHOLDER_WORDS or len(set(lowered)) <= 3


def looks_like_secret(value: str, *, min_length: int = _MIN_SECRET_LENGTH) -> bool:
    """A value long and random enough to be a credential, and not a placeholder."""
    value = value.strip("\"'")
    if len(value) < min_length or _is_placeholder(value):
        return False
    return _entropy(value) >= _MIN_ENTROPY_BITS


def _is_random_body(body: str) -> bool:
    """The random part of a known token format: anything but a template (``hf_xxxx...``, ``...EXAMPLE``).

    An all-capitals body is not taken for a variable name here: the prefix already says it is a key.
    """
    lowered = body.lower()
    if len(set(lowered)) <= 3 or any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return False
    return _entropy(body) >= _MIN_ENTROPY_BITS


# Cloud secrets have their own names (aws_secret_access_key, secret_key, Azure's AccountKey).
_SECRET_KEY_NAME = (
    r"[A-Za-z0-9_.-]*?(?:access[_-]?token|token|api[_-]?key|apikey|password|passwd|secret"
    r"|access[_-]?key|secret[_-]?key|account[_-]?key)"
)
_SECRET_KEY = re.compile(rf"^{_SECRET_KEY_NAME}$", re.IGNORECASE)


def is_secret_key(name: str) -> bool:
    """Whether a key (JSON key, query parameter, keyword argument) names a credential."""
    return bool(_SECRET_KEY.match(name))


_B = r"(?<![A-Za-z0-9])"  # a token starts at a word edge

# (kind, pattern, group holding the random part). Order matters: URL userinfo and
# PEM blocks first (they may contain other formats), secret-named keys last.
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "url_credentials",
        re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<body>[^\s/@?#\[\]:\"']*:[^\s/@?#\[\]\"']+)@"),
        "body",
    ),
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?P<body>(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"
            r"|[A-Za-z0-9+/=\s\\]*))"
        ),
        "body",
    ),
    (
        "jwt",
        re.compile(_B + r"(?P<body>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
        "body",
    ),
    ("anthropic", re.compile(_B + r"sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"), "body"),
    ("openai", re.compile(_B + r"sk-(?:proj-|svcacct-|admin-)?(?P<body>[A-Za-z0-9_-]{20,})"), "body"),
    ("huggingface", re.compile(_B + r"hf_(?P<body>[A-Za-z0-9]{30,})"), "body"),
    ("github", re.compile(_B + r"(?:gh[pousr]_(?P<body>[A-Za-z0-9]{30,})|github_pat_(?P<pat>[A-Za-z0-9_]{40,}))"), ""),
    ("gitlab", re.compile(_B + r"glpat-(?P<body>[A-Za-z0-9_-]{20,})"), "body"),
    ("slack", re.compile(_B + r"xox[abposr]-(?P<body>[A-Za-z0-9-]{10,})"), "body"),
    ("aws_access_key", re.compile(_B + r"(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Za-z0-9])"), "body"),
    ("google_api_key", re.compile(_B + r"AIza(?P<body>[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])"), "body"),
)

_KEY_VALUE = re.compile(
    rf"(?P<key>\b{_SECRET_KEY_NAME}\b[\"']?)(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"'&,;\[\](){{}}<>]+)",
    re.IGNORECASE,
)


def _replace_known(kind: str, pattern: re.Pattern[str], group: str, text: str, found: set[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        body = match.group(group) if group else (match.group("body") or match.group("pat"))
        if kind == "url_credentials":
            password = body.split(":", 1)[1]
            if _is_reference(password):
                return match.group(0)
            found.add(kind)
            return f"{match.group('scheme')}{_marker(kind)}@"
        if kind != "private_key" and not _is_random_body(body):
            return match.group(0)
        found.add(kind)
        return _marker(kind)

    return pattern.sub(repl, text)


def _replace_key_values(text: str, found: set[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        if not looks_like_secret(match.group("value")):
            return match.group(0)
        found.add("secret")
        return f"{match.group('key')}{match.group('sep')}{match.group('quote')}{_marker('secret')}"

    return _KEY_VALUE.sub(repl, text)


def _redact(text: str, found: set[str]) -> str:
    for kind, pattern, group in _PATTERNS:
        text = _replace_known(kind, pattern, group, text, found)
    return _replace_key_values(text, found)


def redact_text(text: str) -> Redacted:
    """Replace every credential found in ``text`` by ``[REDACTED:<kind>]``."""
    found: set[str] = set()
    return Redacted(text=_redact(text, found), kinds=tuple(sorted(found)))


def redact_url(url: str) -> Redacted:
    """Scrub userinfo (``https://user:pass@host``) and secret query parameters from a URL."""
    return redact_text(url)


def redact_mapping(obj: Any) -> tuple[Any, tuple[str, ...]]:
    """Redact JSON-like data recursively: every string, and secret-named keys' values whatever their format.

    Returns a new object (the input is not modified) and the sorted kinds removed.
    """
    found: set[str] = set()
    return _walk(obj, found, lambda s: _redact(s, found)), tuple(sorted(found))


def _walk(obj: Any, found: set[str], scrub: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        out = {}
        for key, value in obj.items():
            new_key = scrub(key) if isinstance(key, str) else key
            new_value = _walk(value, found, scrub)  # a known format keeps its own kind
            unchanged_string = new_value == value and isinstance(value, str)
            if unchanged_string and isinstance(key, str) and is_secret_key(key) and looks_like_secret(value):
                found.add("secret")
                new_value = _marker("secret")
            out[new_key] = new_value
        return out
    if isinstance(obj, (list, tuple)):
        return [_walk(item, found, scrub) for item in obj]
    return obj
