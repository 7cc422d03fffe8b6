"""Settings for the test suite.

The test database is a file (SQLite) or a per-process database (PostgreSQL) so
that a real Celery worker started as a subprocess by a test sees the same rows.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Isolate this test session's database, broker queues, media files and locks, and hand the
# same locations to any worker subprocess through the environment. Unless FMGOV_VAR_DIR says
# otherwise they live in a temporary directory that the session removes at exit, so a test
# run leaves nothing behind in the repository's var/.
if not os.environ.get("FMGOV_VAR_DIR"):
    _made, _owner = tempfile.mkdtemp(prefix="fmgov-test-"), os.getpid()
    os.environ["FMGOV_VAR_DIR"] = _made
    atexit.register(lambda: os.getpid() == _owner and shutil.rmtree(_made, ignore_errors=True))
_var = Path(os.environ["FMGOV_VAR_DIR"])
_session = os.environ.setdefault("FMGOV_TEST_SESSION", str(os.getpid()))
# Under pytest-xdist every worker process is a session of its own: its own database (pytest-django
# adds the suffix), broker queues, media, locks and signing state. Worker subprocesses it starts
# inherit the already-suffixed names.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker and not _session.endswith(f"-{_xdist_worker}"):
    _session = os.environ["FMGOV_TEST_SESSION"] = f"{_session}-{_xdist_worker}"
    for _inherited in ("FMGOV_BROKER_DIR", "FMGOV_BROKER_KEYPREFIX", "MEDIA_ROOT"):
        os.environ.pop(_inherited, None)
    # The signer's state file sits beside its key: one key directory per database.
    if os.environ.get("AUDIT_SIGNING_KEY_FILE", "").startswith(str(_var)):
        os.environ.pop("AUDIT_SIGNING_KEY_FILE")
        os.environ.pop("AUDIT_PUBLIC_KEY_FILES", None)
os.environ.setdefault("FMGOV_BROKER_DIR", str(_var / f"test-broker-{_session}"))
os.environ.setdefault("FMGOV_BROKER_KEYPREFIX", f"fmgov-test-{_session}:")
os.environ.setdefault("MEDIA_ROOT", str(_var / f"test-media-{_session}"))
# A credential key pair made for this test session (never a committed secret), shared with worker subprocesses.
if not os.environ.get("CREDENTIAL_PUBLIC_KEY"):
    from fmgov.settings.dev_keys import new_key_pair

    os.environ["CREDENTIAL_PRIVATE_KEY"], os.environ["CREDENTIAL_PUBLIC_KEY"] = new_key_pair()
# Likewise the audit checkpoint signing pair, in this session's directory (worker subprocesses inherit it).
if not os.environ.get("AUDIT_PUBLIC_KEY_FILES"):
    from fmgov.settings.dev_keys import development_signing_keys

    os.environ["AUDIT_SIGNING_KEY_FILE"], os.environ["AUDIT_PUBLIC_KEY_FILES"] = development_signing_keys(
        _var / f"test-{_session}"
    )
# And a self-signed report-signing pair (reports are signed, PAdES, by the worker that renders them).
if not os.environ.get("REPORT_SIGNING_CERT_FILE"):
    from fmgov.settings.dev_keys import development_report_signing_pair

    os.environ["REPORT_SIGNING_KEY_FILE"], os.environ["REPORT_SIGNING_CERT_FILE"] = development_report_signing_pair(
        _var / f"test-{_session}"
    )

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A worker subprocess started by a test may be told to write its e-mails to files
# the test can read; in-process tests always get Django's locmem outbox.
EMAIL_BACKEND = os.environ.get("FMGOV_TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("FMGOV_TEST_EMAIL_FILE_PATH")
_default = DATABASES["default"]  # noqa: F405
if _default["ENGINE"] == "django.db.backends.sqlite3":
    _default["TEST"] = {"NAME": str(VAR_DIR / f"test-{_session}.sqlite3")}  # noqa: F405
else:
    _default["TEST"] = {"NAME": f"test_fmgov_{_session}"}
    _default["CONN_MAX_AGE"] = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The local servers the tests start bind 127.0.0.1 (any port); nothing else is allowed.
EGRESS_MODE = "public"
EGRESS_ALLOW = ["127.0.0.1"]
# A test that needs a tight limit (across processes) sets FMGOV_TEST_LOGIN_THROTTLE_RATE for its subprocesses.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"login": os.environ.get("FMGOV_TEST_LOGIN_THROTTLE_RATE", "1000/min")}  # noqa: F405
# Concurrent test sessions share one Redis: each keeps its cache keys apart.
CACHES["default"]["KEY_PREFIX"] = f"fmgov-test-{_session}"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (quiets WhiteNoise)
