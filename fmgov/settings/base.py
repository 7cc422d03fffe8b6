"""Settings shared by every environment.

Twelve-factor: everything comes from environment variables with safe
development defaults. No variable set means SQLite under ``var/``, an embedded
Celery broker that needs no server (kombu's filesystem transport) and a
development secret key. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to
PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("FMGOV_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEVELOPMENT_SECRET_KEY = "django-insecure-fmgov-development-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_celery_results",
    "django_htmx",
    "axes",
    "fmgov.core",
    "fmgov.accounts",
    "audits",
    "fmgov.findings",
    "fmgov.registry",
    "fmgov.reviews",
    "fmgov.evaluations",
    "fmgov.portfolio",
    "fmgov.notifications",
    "reports",
    "fmgov.dashboard",
    "fmgov.webhooks",
    "fmgov.incidents",
    "fmgov.documentation",
    "fmgov.evidence",
    "fmgov.interop",
    "fmgov.retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audits.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fmgov.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
    # A signed-in user with no role gets 403 and the "no role yet" page everywhere but the exemptions.
    "fmgov.core.middleware.RoleRequiredMiddleware",
]

ROOT_URLCONF = "fmgov.urls"
WSGI_APPLICATION = "fmgov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fmgov.core.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take SQLite's write lock at BEGIN, which
    # serialises audit-trail appends; WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 60,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# django-axes: the 4th failed login within the cool-off window is refused.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=3)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "fmgov.accounts.lockout.lockout_response"
AXES_VERBOSE = False

# Behind a reverse proxy: the addresses (or CIDRs) of the proxies whose X-Forwarded-For
# is believed, e.g. "172.30.255.1" for one hop. Empty: the header is ignored everywhere.
# axes, DRF throttles and audit events all read the client through this one function.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_CLIENT_IP_CALLABLE = "fmgov.core.client_ip.client_ip"
API_TOKEN_LIFETIME_DAYS = env.int("API_TOKEN_LIFETIME_DAYS", default=90)

# --- Internationalisation ------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------
# SMTP unless told otherwise; development keeps mail in EMAIL_FILE_PATH (the admins' Outbox page).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="fmgov <fmgov@localhost>")

# --- Request limits -------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- REST framework -------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "fmgov.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "fmgov.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "fmgov.core.api.filters.BoundedDjangoFilterBackend",
        "fmgov.core.api.filters.BoundedSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "fmgov.core.api.exceptions.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "fmgov.core.api.parsers.SafeJSONParser",
        "fmgov.core.api.parsers.SafeMultiPartParser",
        "fmgov.core.api.parsers.SafeFormParser",
    ],
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="20/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Throttles key on fmgov.core.client_ip (TRUSTED_PROXIES); 0 keeps DRF's own get_ident off the header.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "fmgov API",
    "DESCRIPTION": "Governance and audit logging for foundation models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI (and Redoc) served with the app, pinned by requirements.txt: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind", "status" or "state" field with their own choices.
    "ENUM_NAME_OVERRIDES": {
        "AdaptationKindEnum": "fmgov.registry.choices.AdaptationKind",
        "DeploymentStatusEnum": "fmgov.registry.choices.DeploymentStatus",
        "CredentialSourceEnum": "fmgov.registry.choices.CredentialSource",
        "ReviewStateEnum": "fmgov.reviews.choices.ReviewState",
        "RunStateEnum": "fmgov.evaluations.choices.RunState",
        "FindingStateEnum": "fmgov.findings.choices.FindingState",
        "FindingSourceEnum": "fmgov.findings.choices.FindingSource",
        "PortfolioFindingKindEnum": "fmgov.portfolio.choices.PortfolioFindingKind",
        "ReportKindEnum": "reports.choices.ReportKind",
        "ReportStateEnum": "reports.choices.ReportState",
        "IncidentStatusEnum": "fmgov.incidents.choices.IncidentStatus",
    },
}

# --- Cache ---------------------------------------------------------------
# Shared by every process (throttles must hold across gunicorn workers): CACHE_URL, else the
# Redis of CELERY_BROKER_URL when that is Redis, else a per-process cache for the embedded default.
_broker_url = env.str("CELERY_BROKER_URL", default="")
_default_cache_url = _broker_url if _broker_url.startswith(("redis://", "rediss://")) else "locmemcache://"
CACHES = {"default": env.cache("CACHE_URL", default=_default_cache_url)}
CACHES["default"].setdefault("KEY_PREFIX", "fmgov")

# The API's registry and review lists and details are cached per user under the audit chain's head
# (audits/cached_reads.py): an answer is served again until the next governance write. 0 turns it off.
API_READ_CACHE_SECONDS = env.int("API_READ_CACHE_SECONDS", default=300)

# Model and adaptation pages draw this many nearest descendants (and ancestors); the lineage API lists all.
LINEAGE_GRAPH_MAX_NODES = env.int("LINEAGE_GRAPH_MAX_NODES", default=40)

# --- Serious incidents (fmgov/incidents/conf.py) --------------------------
# Reporting deadlines, JSON: {"<regime>": {"<harm category>": {"days": N, "source": "legal source"}, ...}, ...};
# the table replaces the built-in one (EU AI Act Art. 73 and 55(1)(c)). Empty: the built-in table.
INCIDENT_DEADLINES = env.json("INCIDENT_DEADLINES", default={})
# The organisation named as reporter on serious-incident reports (reports/selectors/incident.py).
FMGOV_ORGANISATION_NAME = env.str("FMGOV_ORGANISATION_NAME", default="")

# --- Retention (fmgov/retention): days each record class is kept, at least 183 (EU AI Act Art. 26(6)) ------
RETENTION_DAYS_RUNS = env.int("RETENTION_DAYS_RUNS", default=730)
RETENTION_DAYS_REPORTS = env.int("RETENTION_DAYS_REPORTS", default=3650)
RETENTION_DAYS_ATTACHMENTS = env.int("RETENTION_DAYS_ATTACHMENTS", default=3650)

# --- Evidence files (fmgov/evidence) --------------------------------------
# The largest attachment accepted (bytes); a larger upload is refused with 413.
EVIDENCE_MAX_UPLOAD_BYTES = env.int("EVIDENCE_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
# A deployment dossier embeds attachments up to this total (bytes) and lists the rest by digest.
EVIDENCE_DOSSIER_EMBED_BYTES = env.int("EVIDENCE_DOSSIER_EMBED_BYTES", default=200 * 1024 * 1024)
# The uploader is e-mailed this many days before an attachment expires.
EVIDENCE_EXPIRY_NOTICE_DAYS = env.int("EVIDENCE_EXPIRY_NOTICE_DAYS", default=30)

# --- Celery ---------------------------------------------------------------
BROKER_DIR = Path(env.str("FMGOV_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Longer than every hard time limit, so a slow task is never redelivered
    # to a second worker while the first still runs it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
    }
    if env.str("FMGOV_BROKER_KEYPREFIX", default=""):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env.str("FMGOV_BROKER_KEYPREFIX")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_IGNORE_RESULT = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env.int("CELERY_WORKER_MAX_TASKS_PER_CHILD", default=50)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=512_000)
CELERY_TASK_ROUTES = {
    "fmgov.evaluations.tasks.*": {"queue": "evaluations"},
    "reports.tasks.*": {"queue": "reports"},
    "*.notify_*": {"queue": "notifications"},
    "fmgov.webhooks.tasks.*": {"queue": "webhooks"},
    # Only the checkpoint signer, which holds AUDIT_SIGNING_KEY_FILE, consumes this queue.
    "audits.tasks.checkpoint_audit_trail": {"queue": "audit-signing"},
}
# One beat runs the schedule even if several are started (a lock; see fmgov/core/beat.py).
CELERY_BEAT_SCHEDULER = "fmgov.core.beat.LockedDatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A running evaluation whose heartbeat is older than this has lost its worker and is re-queued.
FMGOV_EVALUATION_STALE_SECONDS = env.int("FMGOV_EVALUATION_STALE_SECONDS", default=120)
FMGOV_WORKER_QUEUES = ["default", "evaluations", "reports", "notifications", "webhooks", "audit-signing"]

# --- Audit trail ----------------------------------------------------------
DEVELOPMENT_AUDIT_KEY = "fmgov-development-checkpoint-key"
AUDIT_CHECKPOINT_KEY = env.str("AUDIT_CHECKPOINT_KEY", default=DEVELOPMENT_AUDIT_KEY)
# Every few minutes: the task signs only when the head has moved since the last checkpoint (audits.tasks).
AUDIT_CHECKPOINT_EVERY_MINUTES = env.int("AUDIT_CHECKPOINT_EVERY_MINUTES", default=5)
# Ed25519 checkpoints (audits/signing.py). The private key (PEM, PKCS#8) is given to the signer only: the worker
# on the audit-signing queue and the export/sign commands. Every process verifies with the public keys, given as
# comma-separated PEM files, each optionally "path;from=ISO-TIME;until=ISO-TIME" for rotation.
# AUDIT_CHECKPOINT_KEY above now only verifies the HMAC checkpoints written before.
AUDIT_SIGNING_KEY_FILE = env.str("AUDIT_SIGNING_KEY_FILE", default="")
AUDIT_PUBLIC_KEY_FILES = env.str("AUDIT_PUBLIC_KEY_FILES", default="")
# Anchors of each checkpoint outside the database (audits/anchors.py), fetched by the signer through the egress
# policy: RFC 3161 timestamp authorities (comma-separated URLs), and witnesses: "dir:/mnt/worm" (write-once files),
# an https:// URL (POST), "email" (the auditors). Failures are retried and open a finding.
AUDIT_TSA_URLS = env.list("AUDIT_TSA_URLS", default=[])
AUDIT_WITNESSES = env.list("AUDIT_WITNESSES", default=[])
# PAdES signing of PDF reports (reports/rendering/signing.py): the organisation's key and certificate (PEM).
REPORT_SIGNING_KEY_FILE = env.str("REPORT_SIGNING_KEY_FILE", default="")
REPORT_SIGNING_CERT_FILE = env.str("REPORT_SIGNING_CERT_FILE", default="")

# --- Egress: every outbound call workers make (fmgov/core/egress.py) ------
# public: public addresses only; allowlist: only what EGRESS_ALLOW lists. EGRESS_ALLOW
# takes host names, addresses, host:port and CIDRs, e.g. "llm.internal,10.2.0.0/16,127.0.0.1:8001".
EGRESS_MODE = env.str("EGRESS_MODE", default="public")
EGRESS_ALLOW = env.list("EGRESS_ALLOW", default=[])
EGRESS_MAX_RESPONSE_BYTES = env.int("EGRESS_MAX_RESPONSE_BYTES", default=10 * 1024 * 1024)
EGRESS_DEADLINE_S = env.float("EGRESS_DEADLINE_S", default=60.0)  # connect + send + every read
EGRESS_CONNECT_TIMEOUT_S = env.float("EGRESS_CONNECT_TIMEOUT_S", default=5.0)

# --- Endpoint credentials and local models -------------------------------
# Web processes hold the public key only (they seal credential values); workers
# also hold the private key (they open them). See fmgov/registry/credential_store.py.
CREDENTIAL_PUBLIC_KEY = env.str("CREDENTIAL_PUBLIC_KEY", default="")
CREDENTIAL_PRIVATE_KEY = env.str("CREDENTIAL_PRIVATE_KEY", default="")
CREDENTIAL_PRIVATE_KEY_FILE = env.str("CREDENTIAL_PRIVATE_KEY_FILE", default="")
# Registered local models given by path must resolve under this directory.
LOCAL_MODELS_DIR = env.str("LOCAL_MODELS_DIR", default=str(VAR_DIR / "models"))

# --- Logging --------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO: a webhook URL (a Slack one is itself a secret) or a query
        # string with a key must not reach the workers' logs; the egress client's own errors name the origin only.
        "httpx": {"level": "WARNING"},
        # The filesystem transport has no host; kombu warns about it on every connection.
        "kombu.connection": {"level": "ERROR"},
        # The outbox backend's one line per message, shown even when Celery runs at WARNING.
        "fmgov.notifications.outbox": {"level": "INFO"},
    },
}

# --- Single sign-on: OpenID Connect (fmgov/accounts/oidc.py; README "Single sign-on") ------------------
# Off unless OIDC_RP_CLIENT_ID is set; local accounts keep working beside it. Endpoints are given explicitly (no
# discovery). The web process itself calls the token, user-info and JWKS endpoints an admin configured here (not
# under the workers' egress policy), each call capped by OIDC_TIMEOUT seconds, no redirects, 256 KiB.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=5.0)
OIDC_USE_PKCE = True
FMGOV_OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
FMGOV_OIDC_PROVIDER_NAME = env.str("FMGOV_OIDC_PROVIDER_NAME", default="single sign-on")
FMGOV_OIDC_USERNAME_CLAIM = env.str("FMGOV_OIDC_USERNAME_CLAIM", default="preferred_username")
# Roles come only from this explicit map of the groups claim, e.g. "fmgov-engineers=engineer,fmgov-board=reviewer";
# a group not listed gives no role, and only a group mapped to admin makes an admin (and superuser).
FMGOV_OIDC_GROUPS_CLAIM = env.str("FMGOV_OIDC_GROUPS_CLAIM", default="groups")
FMGOV_OIDC_ROLE_MAP = env.str("FMGOV_OIDC_ROLE_MAP", default="")
FMGOV_OIDC_DISABLE_LOCAL_PASSWORD = env.bool("FMGOV_OIDC_DISABLE_LOCAL_PASSWORD", default=False)
if FMGOV_OIDC_ENABLED:
    AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "fmgov.accounts.oidc.LocalPasswordBackend",
        "fmgov.accounts.oidc.SsoBackend",
    ]
