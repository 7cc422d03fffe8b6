"""The credential key pair of a development machine, and a key-pair printer for production.

``make run`` starts web and workers together, so one pair made once in
``var/`` (git-ignored) serves both; production generates a pair with
``python -m fmgov.settings.dev_keys`` and hands the private key to workers only.
Plain ``cryptography`` here: settings cannot import the apps.
"""

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

__all__ = [
    "new_key_pair",
    "development_credential_keys",
    "development_report_signing_pair",
    "development_signing_keys",
    "write_signing_key_pair",
]


def new_key_pair() -> tuple[str, str]:
    """(private, public), each base64 of its 32 raw bytes."""
    private = X25519PrivateKey.generate()
    raw = serialization.Encoding.Raw
    private_raw = private.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public_raw = private.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    return base64.b64encode(private_raw).decode(), base64.b64encode(public_raw).decode()


def development_credential_keys(var_dir: Path) -> tuple[str, str]:
    """(public key, private key file) under ``var_dir``, made on first use."""
    private_file, public_file = var_dir / "credential-key", var_dir / "credential-key.pub"
    if not (private_file.exists() and public_file.exists()):
        private, public = new_key_pair()
        fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(private)
        public_file.write_text(public)
    return public_file.read_text().strip(), str(private_file)


def write_signing_key_pair(directory: Path) -> tuple[Path, Path, str]:
    """A new audit-checkpoint pair: ``audit-signing-key.pem`` (PKCS#8, 0600) and ``.pub.pem``; never overwrites.

    Returns (private file, public file, key id); the key id is the first 16 hex of SHA-256 of the raw public key.
    """
    directory.mkdir(parents=True, exist_ok=True)
    private_file, public_file = directory / "audit-signing-key.pem", directory / "audit-signing-key.pub.pem"
    private = Ed25519PrivateKey.generate()
    pem = serialization.Encoding.PEM
    private_pem = private.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public_key = private.public_key()
    public_pem = public_key.public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_file.write_bytes(public_pem)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return private_file, public_file, hashlib.sha256(raw).hexdigest()[:16]


def development_signing_keys(var_dir: Path) -> tuple[str, str]:
    """(private key file, public key file) of the audit signer under ``var_dir/audit-keys``, made on first use."""
    directory = var_dir / "audit-keys"
    private_file, public_file = directory / "audit-signing-key.pem", directory / "audit-signing-key.pub.pem"
    if not (private_file.exists() and public_file.exists()):
        private_file.unlink(missing_ok=True)
        write_signing_key_pair(directory)
    return str(private_file), str(public_file)


def development_report_signing_pair(var_dir: Path) -> tuple[str, str]:
    """(key file, certificate file) of a self-signed report-signing pair under ``var_dir/report-signing``.

    Made on first use, like the audit pair: development and tests sign reports (PAdES) with it; production
    gives the organisation's own key and certificate (REPORT_SIGNING_KEY_FILE, REPORT_SIGNING_CERT_FILE).
    """
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory = var_dir / "report-signing"
    key_file, cert_file = directory / "report-signing-key.pem", directory / "report-signing-cert.pem"
    if key_file.exists() and cert_file.exists():
        return str(key_file), str(cert_file)
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fmgov development report signing")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    cert_file.write_bytes(cert.public_bytes(pem))
    return str(key_file), str(cert_file)


if __name__ == "__main__":
    private, public = new_key_pair()
    print(f"CREDENTIAL_PUBLIC_KEY={public}\nCREDENTIAL_PRIVATE_KEY={private}  # workers only")
