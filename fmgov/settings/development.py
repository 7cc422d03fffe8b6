"""Local development: `make run`."""

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)  # noqa: F405
# One .eml file per message in var/mail/ (read it on the Outbox page) and one line each on the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="fmgov.notifications.backends.OutboxEmailBackend")  # noqa: F405

# The local OpenAI-compatible server (python -m fmgov.evaluations.testing.fake_openai) binds 127.0.0.1.
EGRESS_ALLOW = env.list("EGRESS_ALLOW", default=["127.0.0.1"])  # noqa: F405

# `make run` starts web and workers on this machine: give them a key pair of their own, made once in var/.
if not CREDENTIAL_PUBLIC_KEY:  # noqa: F405
    from fmgov.settings.dev_keys import development_credential_keys

    CREDENTIAL_PUBLIC_KEY, _private_file = development_credential_keys(VAR_DIR)  # noqa: F405
    CREDENTIAL_PRIVATE_KEY_FILE = CREDENTIAL_PRIVATE_KEY_FILE or _private_file  # noqa: F405

# And an audit checkpoint signing pair, also made once in var/ (production keeps the private key on the signer only).
if not AUDIT_PUBLIC_KEY_FILES:  # noqa: F405
    from fmgov.settings.dev_keys import development_signing_keys

    _signing_key_file, AUDIT_PUBLIC_KEY_FILES = development_signing_keys(VAR_DIR)  # noqa: F405
    AUDIT_SIGNING_KEY_FILE = AUDIT_SIGNING_KEY_FILE or _signing_key_file  # noqa: F405

# And a self-signed report-signing pair for PAdES signatures on reports, also made once in var/.
if not REPORT_SIGNING_CERT_FILE:  # noqa: F405
    from fmgov.settings.dev_keys import development_report_signing_pair

    REPORT_SIGNING_KEY_FILE, REPORT_SIGNING_CERT_FILE = development_report_signing_pair(VAR_DIR)  # noqa: F405
