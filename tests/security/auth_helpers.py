"""What the login attack tests share: the production login limits, TOTP codes, settings in a subprocess."""

import os
import subprocess
import sys
import time
from pathlib import Path

from allauth.core.internal.ratelimit import parse_rates
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from config.settings import base
from tests.test_prod_settings import PROD_ENV

ROOT = Path(__file__).resolve().parent.parent.parent
LOGIN_URL = "/accounts/login/"
TOO_MANY = "Too many failed login attempts"
# What config.settings.prod needs to start: the same environment its own tests use.
PRODUCTION_ENV = PROD_ENV


def production_login_limits() -> dict:
    """The limits base.py configures (the test settings turn rate limiting off); allauth's own
    defaults where base.py configures none."""
    return getattr(base, "ACCOUNT_RATE_LIMITS", {})


def failed_login_limits() -> tuple[int, int]:
    """(per account, per address): how many failed logins each allows in its window."""
    from allauth.account import app_settings

    rates = {rate.per: rate.amount for rate in parse_rates(app_settings.RATE_LIMITS["login_failed"])}
    return rates["key"], rates["ip"]


def give_totp(user) -> str:
    """Turn on TOTP for `user` as allauth's activation does; returns the secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def load_settings(module: str, code: str, **environ) -> subprocess.CompletedProcess:
    """Run `code` after django.setup() with `module` as settings and `environ` added to the environment."""
    env = {**os.environ, **environ, "DJANGO_SETTINGS_MODULE": module}
    script = f"import django; django.setup(); {code}"
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
