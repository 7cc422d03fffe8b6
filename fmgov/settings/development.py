"""Local development: `make run`."""

from .base import *  # noqa: F403

DEBUG = env.bool("DEBUG", default=True)  # noqa: F405
# One .eml file per message in var/mail/ (read it on the Outbox page) and one line each on the console.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="fmgov.notifications.backends.OutboxEmailBackend")  # noqa: F405

# The local OpenAI-compatible server (python -m fmgov.evaluations.testing.fake_openai) binds 127.0.0.1.
EGRESS_ALLOW = env.list("EGRESS_ALLOW", default=["127.0.0.1"])  # noqa: F405
