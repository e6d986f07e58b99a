from .base import *  # noqa: F401,F403
from .base import database_from_env, env

DEBUG = False
DATABASES = {
    "default": database_from_env("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test", conn_max_age=0)
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "documents": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run tasks in-process unless a test starts a real worker (tests/conftest.py).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CRM_ENCRYPTION_KEY = "hJ0m5l5Yb0oYb2bX0l3m7m1q8y6Zk2p4c9t1w3e5r7s="
ACCOUNT_RATE_LIMITS = False
# No collectstatic in tests: WhiteNoise serves from the finders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
