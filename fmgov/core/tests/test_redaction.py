"""Credential scrubbing: every known format goes, placeholders stay, and a second pass changes nothing."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmgov.core.redaction import Redacted, redact_mapping, redact_text, redact_url

# Random-looking characters, as a real token has; x and y left out so that a generated
# token never spells a placeholder marker ("xxxx", "your") by chance.
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWZabcdefghijklmnopqrstuvwz0123456789"


def _random_chars(seed: bytes, length: int, alphabet: str = _ALNUM) -> str:
    """Deterministic pseudo-random characters from hypothesis's seed bytes (always high entropy)."""
    out, counter = [], 0
    while len(out) < length:
        digest = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:length])


_FORMATS = {
    "huggingface": lambda s: "hf_" + _random_chars(s, 34),
    "openai": lambda s: "sk-" + _random_chars(s, 48),
    "openai_project": lambda s: "sk-proj-" + _random_chars(s, 64),
    "anthropic": lambda s: "sk-ant-api03-" + _random_chars(s, 80),
    "github": lambda s: "ghp_" + _random_chars(s, 36),
    "github_pat": lambda s: "github_pat_" + _random_chars(s, 82),
    "gitlab": lambda s: "glpat-" + _random_chars(s, 20),
    "slack": lambda s: "xoxb-" + _random_chars(s, 12, "0123456789") + "-" + _random_chars(s, 24),
    "aws": lambda s: "AKIA" + _random_chars(s, 16, "ABCDEFGHIJKLMNOPQRSTUVWZ234567"),
    "google": lambda s: "AIza" + _random_chars(s, 35),
    "jwt": lambda s: "eyJhbGciOiJIUzI1NiJ9.eyJ" + _random_chars(s, 30) + "." + _random_chars(s + b"sig", 43),
}

tokens = st.builds(lambda kind, seed: _FORMATS[kind](seed), st.sampled_from(sorted(_FORMATS)), st.binary(min_size=8))
keyed_secrets = st.builds(
    lambda key, sep, seed: (f"{key}{sep}", _random_chars(seed, 24)),
    st.sampled_from(["token", "api_key", "apikey", "password", "secret", "access_token", "hf_token"]),
    st.sampled_from(["=", ": ", "="]),
    st.binary(min_size=8),
)
surrounding = st.text(max_size=40)


@given(before=surrounding, token=tokens, after=surrounding)
def test_a_generated_token_never_survives(before: str, token: str, after: str) -> None:
    result = redact_text(f"{before} {token} {after}")
    assert token not in result.text
    assert result.kinds


@given(before=surrounding, pair=keyed_secrets, after=surrounding)
def test_a_random_value_after_a_secret_key_never_survives(before: str, pair: tuple[str, str], after: str) -> None:
    key, value = pair
    result = redact_text(f"{before} {key}{value} {after}")
    assert value not in result.text
    assert "secret" in result.kinds


@given(st.text())
def test_redaction_is_idempotent_on_any_text(text: str) -> None:
    once = redact_text(text)
    twice = redact_text(once.text)
    assert twice.text == once.text
    assert twice.kinds == ()


@given(before=surrounding, token=tokens, after=surrounding)
def test_redaction_is_idempotent_around_tokens(before: str, token: str, after: str) -> None:
    once = redact_text(f"{before} {token} {after}")
    assert redact_text(once.text) == Redacted(text=once.text, kinds=())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("pretrained=org/m,token=hf_aBcD3fGh1jKlMn0pQrStUvWzZ12345678,dtype=float16", "huggingface"),
        ("OPENAI_API_KEY=sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vZ7zB9dF1hJ", "openai"),
        ("key sk-ant-api03-Ab3dE5gH7jK9mN1pQ3sT5vZ7zB9dF1hJ", "anthropic"),
        ("git clone https://ghp_Ab3dE5gH7jK9mN1pQ3sT5vZ7zB9dF1hJ2kL4@github.com/o/r", "github"),
        ("glpat-Ab3dE5gH7jK9mN1pQ3sT", "gitlab"),
        ("xoxb-1234567890-Ab3dE5gH7jK9", "slack"),
        ("aws AKIAZ7Q3K9L2M4N8P1R6 key", "aws_access_key"),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "google_api_key"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "private_key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA", "private_key"),
        ("https://alice:pass@models.example.org/v1", "url_credentials"),
        ("password=Zk29dKq0Lm3nXv8TbY1w", "secret"),
        ('{"api_key": "Zk29dKq0Lm3nXv8TbY1w"}', "secret"),
        ("secret: 9f86d081884c7d659a2feaa0c55ad015", "secret"),
        # Cloud provider secrets sit under their own key names (the AKIA id alone is not the secret).
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8KEYab12", "secret"),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8KEYab12", "secret"),
        ('{"secret_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8KEYab12"}', "secret"),
        ("DefaultEndpointsProtocol=https;AccountKey=Zx81Kq02LmNp93RtUvWxYz/81Kq02LmNp93RtUvWxYz==;", "secret"),
    ],
)
def test_known_formats_are_replaced_by_their_kind(text: str, kind: str) -> None:
    result = redact_text(text)
    assert f"[REDACTED:{kind}]" in result.text
    assert kind in result.kinds


@pytest.mark.parametrize(
    "text",
    [
        "token=YOUR_HUGGINGFACE_API_KEY",
        "api_key=<your token>",
        "use_auth_token=True",
        "token=None",
        "token=$HF_TOKEN",
        "api_key=${OPENAI_API_KEY}",
        "password=xxx",
        "secret=hunter2",
        "token=aaaaaaaaaaaaaaaaaaaa",
        "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk-...",
        "AKIAIOSFODNN7EXAMPLE",
        "https://user:${PASSWORD}@host.example/x",
        "pretrained=EleutherAI/pythia-160m,revision=step100000,dtype=float16,max_tokens=256",
        "max_new_tokens=Zk29dKq0Lm3nXv8TbY1w tokenizer=Zk29dKq0Lm3nXv8TbY1w",
        "aws_secret_access_key=YOUR_SECRET_ACCESS_KEY",
    ],
)
def test_placeholders_and_ordinary_values_stay(text: str) -> None:
    assert redact_text(text) == Redacted(text=text, kinds=())


def test_a_url_keeps_its_host_and_loses_its_credentials() -> None:
    result = redact_url("https://bob:s3cr3t-pw@api.example.org/v1?api_key=Zk29dKq0Lm3nXv8TbY1w&model=m")
    assert result.text == "https://[REDACTED:url_credentials]@api.example.org/v1?api_key=[REDACTED:secret]&model=m"
    assert result.kinds == ("secret", "url_credentials")


def test_mappings_are_scrubbed_recursively_without_touching_the_input() -> None:
    data = {
        "model_args": "pretrained=m,token=hf_aBcD3fGh1jKlMn0pQrStUvWzZ12345678",
        "hf_token": "Zk29dKq0Lm3nXv8TbY1w",
        "nested": [{"password": "Qw8!zR2#pL5@nB7$"}, 3, None, {"access_token": "None"}],
        "batch_size": 8,
    }
    cleaned, kinds = redact_mapping(data)
    assert cleaned == {
        "model_args": "pretrained=m,token=[REDACTED:huggingface]",
        "hf_token": "[REDACTED:secret]",
        "nested": [{"password": "[REDACTED:secret]"}, 3, None, {"access_token": "None"}],
        "batch_size": 8,
    }
    assert kinds == ("huggingface", "secret")
    assert data["hf_token"] == "Zk29dKq0Lm3nXv8TbY1w"
    assert redact_mapping(cleaned) == (cleaned, ())
