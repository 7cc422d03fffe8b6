"""Ed25519 checkpoint keys: the signer's private key, the verifiers' public keys, the signer's state.

The private key (``AUDIT_SIGNING_KEY_FILE``, PEM PKCS#8) is read only by the
checkpoint signer: the Celery task on the ``audit-signing`` queue and the
management commands that sign or export. Web processes verify with public keys
read from ``AUDIT_PUBLIC_KEY_FILES`` (comma-separated PEM files, each optionally
``path;from=ISO-TIME;until=ISO-TIME`` for rotation), never from the database, so
an insider who writes the database cannot add a key of their own.

The signer keeps the last (seq, hash) it signed in a state file beside its key
and refuses to sign a head that does not extend it: whoever rewrites and
re-hashes the chain cannot get the real signer to vouch for the forgery.
Keep the message format in step with ``audits/verify_export.py``.
"""

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from audits.canonical import canonical_json
from fmgov.settings.dev_keys import write_signing_key_pair as write_key_pair

__all__ = [
    "ALGORITHM",
    "PublicKey",
    "Signer",
    "SignerRefused",
    "SigningKeyUnavailable",
    "checkpoint_message",
    "key_id",
    "load_signer",
    "public_keys",
    "verify_checkpoint_signature",
    "write_key_pair",
]

ALGORITHM = "ed25519"


class SigningKeyUnavailable(RuntimeError):
    """This process holds no signing key (a web process, or an unconfigured signer)."""


class SignerRefused(RuntimeError):
    """The signer will not sign this head: it does not extend what it signed before."""


def key_id(public_raw: bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw 32-byte public key: short, and unforgeable in practice."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def checkpoint_message(*, seq: int, head_hash: str, created_at: str, key: str) -> bytes:
    """The bytes signed: canonical JSON of the checkpoint's (seq, head_hash, created_at, key_id)."""
    return canonical_json({"seq": seq, "head_hash": head_hash, "created_at": created_at, "key_id": key}).encode()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKey:
    """A configured verifying key and the window in which its checkpoints count."""

    key_id: str
    key: Ed25519PublicKey
    pem: str
    path: str
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def valid_at(self, moment: dt.datetime) -> bool:
        return (self.valid_from is None or moment >= self.valid_from) and (
            self.valid_until is None or moment < self.valid_until
        )


def _parse_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def parse_public_key_spec(spec: str) -> PublicKey:
    """``path[;from=ISO][;until=ISO]`` to a PublicKey; raises ValueError on anything else."""
    path, *options = (part.strip() for part in spec.split(";"))
    window: dict[str, dt.datetime] = {}
    for option in options:
        name, _, value = option.partition("=")
        if name not in ("from", "until") or not value:
            raise ValueError(f"{spec!r}: expected path;from=ISO-TIME;until=ISO-TIME")
        window[name] = _parse_time(value)
    pem = Path(path).read_text(encoding="ascii")
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return PublicKey(key_id(_raw_public(key)), key, pem, path, window.get("from"), window.get("until"))


def public_keys() -> list[PublicKey]:
    """The verifying keys configured for this process, from files only."""
    specs = settings.AUDIT_PUBLIC_KEY_FILES
    if isinstance(specs, str):
        specs = [spec for spec in specs.split(",") if spec.strip()]
    return [parse_public_key_spec(spec) for spec in specs]


def verify_checkpoint_signature(
    *, seq: int, head_hash: str, created_at: dt.datetime, created_at_text: str, key: str, signature: str
) -> str | None:
    """None when a configured key, valid at ``created_at``, signed this checkpoint; else why not."""
    candidates = [pk for pk in public_keys() if pk.key_id == key]
    if not candidates:
        return f"signed by key {key or '(none)'}, which is not configured"
    if not any(pk.valid_at(created_at) for pk in candidates):
        return f"signed by key {key} outside its validity window"
    message = checkpoint_message(seq=seq, head_hash=head_hash, created_at=created_at_text, key=key)
    try:
        raw_signature = bytes.fromhex(signature)
    except ValueError:
        return "the signature is not hexadecimal"
    for pk in candidates:
        with contextlib.suppress(InvalidSignature):
            pk.key.verify(raw_signature, message)
            return None
    return "invalid signature"


class Signer:
    """The holder of the private key and of the last (seq, hash) it signed."""

    def __init__(self, private_key: Ed25519PrivateKey, key_file: Path):
        self._private = private_key
        self.key_id = key_id(_raw_public(private_key.public_key()))
        self.state_file = key_file.with_name(key_file.name + ".state")

    def sign(self, *, seq: int, head_hash: str, created_at: str) -> str:
        message = checkpoint_message(seq=seq, head_hash=head_hash, created_at=created_at, key=self.key_id)
        return self._private.sign(message).hex()

    @contextlib.contextmanager
    def _locked(self):
        fd = os.open(self.state_file.with_name(self.state_file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def last_signed(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest head this signer signed, or None before its first signature."""
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return int(state["seq"]), str(state["hash"])

    def remember(self, seq: int, head_hash: str) -> None:
        """Record a signed head; never moves backwards (signers may finish out of order)."""
        with self._locked():
            last = self.last_signed()
            if last is not None and last[0] >= seq:
                return
            temporary = self.state_file.with_name(self.state_file.name + ".tmp")
            temporary.write_text(json.dumps({"seq": seq, "hash": head_hash}), encoding="utf-8")
            os.replace(temporary, self.state_file)


def load_signer() -> Signer:
    """The signing key of this process; SigningKeyUnavailable where there is none (the web app)."""
    path = settings.AUDIT_SIGNING_KEY_FILE
    if not path:
        raise SigningKeyUnavailable("No AUDIT_SIGNING_KEY_FILE: this process cannot sign checkpoints.")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyUnavailable(f"Cannot read AUDIT_SIGNING_KEY_FILE: {exc.strerror}.") from None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyUnavailable("AUDIT_SIGNING_KEY_FILE is not an Ed25519 private key.")
    return Signer(key, Path(path))
