"""Every setting lives here and reads the environment once; dev/test/prod only override."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{env('PORT', default='8000')}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "billing",
    "portal",
    "crmsync",
    "reports",
    # The project itself: commands that compose the apps (load_demo), which no app may import.
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StaffMfaRequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "portal.context_processors.portal",
            ],
        },
    },
]


def database_from_env(var: str, default=environ.Env.NOTSET, *, conn_max_age: int) -> dict:
    """One database from a URL in the environment, with the options every settings module wants."""
    db = env.db(var, default=default)
    # A new PostgreSQL connection per request halves page throughput: keep them, with health checks.
    db["CONN_MAX_AGE"] = conn_max_age
    db["CONN_HEALTH_CHECKS"] = True
    if db["ENGINE"] == "django.db.backends.postgresql":
        # Page queries are short: PostgreSQL's JIT compiler costs ~150 ms whenever a plan's estimated
        # cost passes its threshold (seen on the 200,000-invoice statement bench) and never pays back here.
        # Parallel workers: a page query that gets a parallel plan competes for the cores the web workers
        # need (the statement's per-account query: 9.8 ms parallel, 4.1 ms without).
        db.setdefault("OPTIONS", {})["options"] = "-c jit=off -c max_parallel_workers_per_gather=0"
    elif db["ENGINE"] == "django.db.backends.sqlite3":
        # The demo's web, worker and beat share one SQLite file: take the write lock up front
        # and wait for it rather than failing with "database is locked".
        db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    return db


# SQLite is only the embedded default of `make run`; tests and production use PostgreSQL.
DATABASES = {
    "default": database_from_env(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=env.int("DB_CONN_MAX_AGE", default=600)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# ATOMIC_REQUESTS stays off: services own their transactions.

AUTHENTICATION_BACKENDS = [
    # Django's and allauth's backends, loading the contact person and its customer with the user
    "portal.auth_backends.ModelBackend",
    "portal.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: login by email, no public sign-up (portal users are invited by staff).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "portal.adapters.PortalAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Billing portal")
MFA_ADAPTER = "portal.adapters.PortalMFAAdapter"
# Staff and superusers must have TOTP before any page but the account pages (where they enrol):
# on in production (prod.py), off by default elsewhere so `make run` and tests log straight in.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=False)
# Login throttling by allauth, kept in the default cache (Redis: shared by every web node).
# Failed logins count per account first (the email typed): 5 in 5 minutes locks that account only.
# Per client address a second, much higher limit stops one address spraying many accounts, and
# "login" caps all attempts from one address. A key limit comes first so that attempts against a
# locked account no longer use up the address's budget. Customers share an address behind a proxy,
# so the address is the client's only when the proxies are trusted below.
ACCOUNT_RATE_LIMITS = {
    "login": "60/m/ip",
    "login_failed": "5/5m/key,50/5m/ip",
}
# How allauth finds the client's address: by default REMOTE_ADDR (X-Forwarded-For ignored, since
# anyone can send it). Behind N reverse proxies you control, TRUSTED_PROXY_COUNT=N takes the Nth
# address from the right of X-Forwarded-For; or TRUSTED_CLIENT_IP_HEADER names the header your
# proxy sets (X-Real-IP, CF-Connecting-IP). Never both.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default=None) or None
# Forwarding a document from the portal: at most this many per contact an hour (counted in the cache).
PORTAL_FORWARDS_PER_HOUR = env.int("PORTAL_FORWARDS_PER_HOUR", default=10)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Content-Security-Policy (django-csp 4): scripts and styles only from our own static files, no inline
# code anywhere (portal, account, admin). Stripe's origins are added by
# config.middleware.ContentSecurityPolicyMiddleware only while STRIPE_PUBLISHABLE_KEY is set.
# data: images: the admin's and the portal's CSS draw icons as data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")


def documents_storage_from_env(kind: str) -> dict:
    """Where customers' shared documents are kept: never at a public URL (portal/documents.py).

    "local": a private directory (DOCUMENTS_ROOT) that no URL serves, for `make run` and one node.
    "s3": a private S3-compatible bucket through django-storages; the download views stream the file
    after checking who may see it, so the bucket never needs a public or signed URL.
    """
    if kind == "local":
        return {
            "BACKEND": "portal.documents.PrivateFileSystemStorage",
            "OPTIONS": {"location": env.path("DOCUMENTS_ROOT", default=BASE_DIR / "private" / "documents")},
        }
    if kind == "s3":
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env("AWS_STORAGE_BUCKET_NAME"),
                "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
                "region_name": env("AWS_S3_REGION_NAME", default=None),
                # Unset: boto3 finds credentials itself (instance role, AWS_* variables, config files).
                "access_key": env("AWS_ACCESS_KEY_ID", default=None),
                "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
                "location": env("AWS_LOCATION", default=""),
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 60,
                "file_overwrite": False,
                "object_parameters": {"ContentDisposition": "attachment"},
            },
        }
    raise ValueError(f"DOCUMENTS_STORAGE must be 'local' or 's3', not {kind!r}")


DOCUMENTS_STORAGE = env("DOCUMENTS_STORAGE", default="local")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": documents_storage_from_env(DOCUMENTS_STORAGE),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Above the portal's own limit of 10 files per upload, so the form can explain the limit
# instead of Django answering a bare 400.
DATA_UPLOAD_MAX_NUMBER_FILES = 50

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="billing@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Redis is the Celery broker and the lock store. `make run` falls back to eager tasks
# and a local-memory cache when Redis is not reachable (REDIS_AVAILABLE=0).
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_AVAILABLE = env.bool("REDIS_AVAILABLE", default=True)
if REDIS_AVAILABLE:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_AVAILABLE)
CELERY_TASK_EAGER_PROPAGATES = True
# At least once (docs/operations.md): a task's message is acknowledged only when it has finished, so a
# worker that dies mid-task leaves it to run again; every task is safe to run twice. A pool child
# killed mid-task (OOM) has its message put back at once; a whole worker killed leaves it unacked
# in Redis until the visibility timeout, then another worker gets it. Kept to minutes (Redis's
# default is an hour): above our longest task and retry countdown. Gateway events do not wait for
# it: the re-queue beat below brings them back within a minute.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=10 * 60)}
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    "crm-sync-every-2-hours": {"task": "crmsync.tasks.sync_crm_task", "schedule": 2 * 60 * 60.0,
                               "kwargs": {"trigger": "scheduled"}},
    # Idempotent, so hourly is safe and catches up after downtime (ledger's entry).
    "subscription-invoices-hourly": {"task": "billing.tasks.generate_due_subscription_invoices_task",
                                     "schedule": 60 * 60.0},
    # A webhook is answered 200 once stored, so the gateway will not resend it: stored events no
    # worker applied (a worker killed holding one, a broker restart) are queued again from here.
    # A run nobody picks up within 30 s is dropped; the next one replaces it.
    "gateway-events-requeue-every-30-seconds": {"task": "billing.requeue_gateway_events_task",
                                                "schedule": 30.0, "options": {"expires": 30}},
    # Statement PDFs built in the background are deleted once they expire (STATEMENT_PDF_KEEP_HOURS).
    "statement-pdfs-expire-hourly": {"task": "portal.tasks.expire_statement_pdfs_task", "schedule": 60 * 60.0},
}

# Statement PDFs: up to this many lines (about six pages) the PDF is rendered inside the request; longer
# ones are built by a Celery task (portal.tasks), shown with their progress, and kept this many hours.
STATEMENT_PDF_INLINE_MAX_LINES = env.int("STATEMENT_PDF_INLINE_MAX_LINES", default=300)
STATEMENT_PDF_KEEP_HOURS = env.int("STATEMENT_PDF_KEEP_HOURS", default=24)

# Payments: the sandbox gateway needs no network; Stripe is picked when its keys are set.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# The Stripe API version every request names and the webhook code reads (events come in the webhook
# endpoint's version: create the endpoint with this one). The version stripe-python 16 is built for.
STRIPE_API_VERSION = env("STRIPE_API_VERSION", default="2026-10-28.endive")
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="stripe" if STRIPE_SECRET_KEY else "sandbox")

# CRM credentials are encrypted at rest with this key (Fernet, urlsafe base64, 32 bytes).
CRM_ENCRYPTION_KEY = env("CRM_ENCRYPTION_KEY", default="")
# Seconds to wait for Zoho CRM to answer one request before retrying it (connect, read, write).
CRM_HTTP_TIMEOUT = env.float("CRM_HTTP_TIMEOUT", default=30.0)
# The offline demo's fake Zoho CRM (`make run` starts it on port 8765; see crmsync.demo). A
# connection pointing here gets the back office's "Demo Zoho CRM" page.
CRM_DEMO_URL = env("CRM_DEMO_URL", default="http://127.0.0.1:8765")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint reports every rendering step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
