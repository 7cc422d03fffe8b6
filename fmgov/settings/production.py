"""Production: refuses to start without a real SECRET_KEY and checkpoint key."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def _b64decode_or_empty(text: str) -> bytes:
    import base64

    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return b""


def _is_ed25519_private_key(path: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        with open(path, "rb") as handle:
            return isinstance(load_pem_private_key(handle.read(), password=None), Ed25519PrivateKey)
    except (OSError, ValueError, TypeError):
        return False


DEBUG = False
if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:  # noqa: F405
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")
if AUDIT_CHECKPOINT_KEY == DEVELOPMENT_AUDIT_KEY:  # noqa: F405
    raise ImproperlyConfigured("Set AUDIT_CHECKPOINT_KEY to a secret of its own.")
if len(_b64decode_or_empty(CREDENTIAL_PUBLIC_KEY)) != 32:  # noqa: F405
    raise ImproperlyConfigured(
        "Set CREDENTIAL_PUBLIC_KEY to the workers' X25519 public key (base64 of 32 raw bytes); "
        "`python -m fmgov.settings.dev_keys` prints a new pair."
    )

# The checkpoint signer (the worker on the audit-signing queue, and the export/sign commands; run them with
# AUDIT_SIGNER=1) refuses to start without its Ed25519 key. The web app and the other workers start without one.
AUDIT_SIGNER = env.bool("AUDIT_SIGNER", default=False)  # noqa: F405
if AUDIT_SIGNER and not _is_ed25519_private_key(AUDIT_SIGNING_KEY_FILE):  # noqa: F405
    raise ImproperlyConfigured(
        "This process signs audit checkpoints (AUDIT_SIGNER=1): set AUDIT_SIGNING_KEY_FILE to its Ed25519 private "
        "key (PEM, PKCS#8); `manage.py audit_keygen DIR` writes a pair."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
