from .base import *  # noqa: F401,F403
from .base import REDIS_URL, STORAGES, database_from_env, documents_storage_from_env, env

DEBUG = False
# No defaults: a missing secret stops the process at start.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": database_from_env("DATABASE_URL", conn_max_age=env.int("DB_CONN_MAX_AGE", default=600))}
CRM_ENCRYPTION_KEY = env("CRM_ENCRYPTION_KEY")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS: a year, subdomains included (every host under the domain must then serve HTTPS; set
# SECURE_HSTS_INCLUDE_SUBDOMAINS=0 if one cannot). Preloading is a promise to the browsers' built-in
# lists that is slow to undo, so it is the operator's choice (SECURE_HSTS_PRELOAD=1), and check --deploy's
# reminder about it (security.W021) is silenced while it is off: see README "Security headers".
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)

# Payments in production go through Stripe only: the sandbox gateway marks invoices paid without
# taking money, and accepts webhooks signed with its public test secret. Missing keys stop the start.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
PAYMENT_GATEWAY = "stripe"

# The back office holds every customer's books: staff and superusers enrol TOTP at their first login.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=True)
# Login rate limits and locks must hold across web nodes: they live in Redis, never in one process's
# memory (base.py falls back to a local cache for `make run` without Redis).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# Web nodes share no disk: shared documents go to a private S3-compatible bucket unless told otherwise
# (DOCUMENTS_STORAGE=local for a single node). Without AWS_STORAGE_BUCKET_NAME the start stops.
DOCUMENTS_STORAGE = env("DOCUMENTS_STORAGE", default="s3")
STORAGES = {**STORAGES, "documents": documents_storage_from_env(DOCUMENTS_STORAGE)}
