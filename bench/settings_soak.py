"""Settings for bench/soak.py: production-like (DEBUG off, persistent connections) on the soak's own
PostgreSQL database, Redis database and sandbox gateway, all given in the environment by the script."""

from config.settings.base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Receipts are rendered and handed to a backend that drops them: nothing leaves the machine.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Twelve clients log in from 127.0.0.1 within seconds; allauth's per-IP limits are for the internet.
ACCOUNT_RATE_LIMITS = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
# Fast password hashing (as config.settings.test): twelve logins at once would otherwise hold both web
# workers for seconds; the soak measures the pages and payments, not PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
