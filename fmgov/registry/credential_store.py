"""Sealing credential values to the workers, and reading them back in a worker.

Web processes hold only ``CREDENTIAL_PUBLIC_KEY``: they can seal a value an
admin typed, never unseal one. Workers also hold the private key
(``CREDENTIAL_PRIVATE_KEY`` or ``CREDENTIAL_PRIVATE_KEY_FILE``) and resolve a
credential's value just before the request that carries it.

Sealing is X25519 with an ephemeral key, HKDF-SHA256 and ChaCha20-Poly1305; the
sealed text is ``v1.`` + base64(ephemeral public key || nonce || ciphertext).
The credential's name is the associated data, so a sealed value copied onto
another credential does not open.
"""

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from fmgov.registry.choices import CredentialSource
from fmgov.registry.models import CREDENTIAL_ENV_PREFIX
from fmgov.settings.dev_keys import new_key_pair as generate_key_pair

__all__ = [
    "CredentialUnavailable",
    "generate_key_pair",
    "public_key_from_b64",
    "seal",
    "unseal",
    "resolve_credential_value",
]

_VERSION = "v1."
_INFO = b"fmgov endpoint credential v1"
_RAW = serialization.Encoding.Raw


class CredentialUnavailable(Exception):
    """The credential's value cannot be had here; the message never contains the value."""


def _raw32(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise CredentialUnavailable(f"{what} is not the base64 of 32 raw bytes.")
    return raw


def public_key_from_b64(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(_raw32(text, "CREDENTIAL_PUBLIC_KEY"))


def _private_key() -> X25519PrivateKey:
    text = getattr(settings, "CREDENTIAL_PRIVATE_KEY", "")
    path = getattr(settings, "CREDENTIAL_PRIVATE_KEY_FILE", "")
    if not text and path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise CredentialUnavailable(f"The credential private key file cannot be read ({exc.strerror}).")
    if not text:
        raise CredentialUnavailable(
            "This process holds no credential private key: only workers open sealed credentials."
        )
    return X25519PrivateKey.from_private_bytes(_raw32(text, "The credential private key"))


def _key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient, info=_INFO).derive(shared)


def seal(value: str, *, name: str, public_key: str | None = None) -> str:
    """Encrypt ``value`` to the workers' public key; the web process cannot open the result."""
    recipient = public_key_from_b64(public_key if public_key is not None else settings.CREDENTIAL_PUBLIC_KEY)
    recipient_raw = recipient.public_bytes(_RAW, serialization.PublicFormat.Raw)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    key = _key(ephemeral.exchange(recipient), ephemeral_raw, recipient_raw)
    nonce = os.urandom(12)
    ciphertext = ChaCha20Poly1305(key).encrypt(nonce, value.encode(), name.encode())
    return _VERSION + base64.b64encode(ephemeral_raw + nonce + ciphertext).decode()


def unseal(sealed: str, *, name: str) -> str:
    """Open a sealed value with this worker's private key."""
    private = _private_key()
    if not sealed.startswith(_VERSION):
        raise CredentialUnavailable(f"The sealed value of credential {name} is not in a known format.")
    try:
        blob = base64.b64decode(sealed[len(_VERSION) :], validate=True)
    except ValueError:
        raise CredentialUnavailable(f"The sealed value of credential {name} is damaged.")
    ephemeral_raw, nonce, ciphertext = blob[:32], blob[32:44], blob[44:]
    recipient_raw = private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    try:
        key = _key(private.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw)), ephemeral_raw, recipient_raw)
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, name.encode()).decode()
    except (InvalidTag, ValueError):
        raise CredentialUnavailable(
            f"The sealed value of credential {name} does not open with this worker's key "
            "(sealed to another key pair, or damaged)."
        )


def resolve_credential_value(credential) -> str:
    """The credential's value, for a worker about to send it to one of the credential's hosts."""
    if not credential.active:
        raise CredentialUnavailable(f"The credential {credential.name} is deactivated.")
    if credential.source == CredentialSource.ENV:
        name = credential.env_var
        if not name.startswith(CREDENTIAL_ENV_PREFIX):  # never any other variable, whatever the row says
            raise CredentialUnavailable(
                f"The credential {credential.name} names a variable outside FMGOV_CREDENTIAL_*."
            )
        value = os.environ.get(name, "")
        if not value:
            raise CredentialUnavailable(
                f"The credential {credential.name} reads the variable {name}, which is not set on this worker."
            )
        return value
    if credential.source == CredentialSource.SEALED:
        return unseal(credential.sealed_value, name=credential.name)
    raise CredentialUnavailable(f"The credential {credential.name} has an unknown source.")
