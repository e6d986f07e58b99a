"""Failed logins lock the attacked account, never the others sharing its address.

Failed logins count per account first; per client address only as a second, much higher limit.
Behind a reverse proxy every customer arrives from the proxy's address, so the client's address is
read from X-Forwarded-For only when TRUSTED_PROXY_COUNT says how many proxies to trust.
"""

import uuid

import pytest
import redis
from django.core.cache import cache

from tests.factories import PORTAL_PASSWORD, ContactPersonFactory

from .auth_helpers import (
    LOGIN_URL,
    PRODUCTION_ENV,
    TOO_MANY,
    failed_login_limits,
    load_settings,
    production_login_limits,
)

pytestmark = pytest.mark.django_db
ATTACKER, OFFICE = "192.0.2.10", "198.51.100.20"
SHARED_REDIS = "redis://127.0.0.1:6379/7"


@pytest.fixture(autouse=True)
def login_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = production_login_limits()
    cache.clear()
    yield
    cache.clear()


def _log_in(client, email, password=PORTAL_PASSWORD, **request):
    client.logout()
    return client.post(LOGIN_URL, {"login": email, "password": password}, **request)


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


def test_after_one_account_is_attacked_another_logs_in_from_the_same_address(client):
    attacked, other = ContactPersonFactory(), ContactPersonFactory()

    for _ in range(30):
        _log_in(client, attacked.email, "guess", REMOTE_ADDR=ATTACKER)
    other_login = _log_in(client, other.email, REMOTE_ADDR=ATTACKER)

    assert _logged_in(other_login)


def test_the_attacked_account_itself_is_locked_from_every_address(client):
    attacked = ContactPersonFactory()
    per_account, _ = failed_login_limits()

    for _ in range(per_account):
        _log_in(client, attacked.email, "guess", REMOTE_ADDR=ATTACKER)
    from_elsewhere = _log_in(client, attacked.email, REMOTE_ADDR=OFFICE)

    assert not _logged_in(from_elsewhere)
    assert TOO_MANY in from_elsewhere.content.decode()


def test_one_address_trying_many_accounts_meets_the_much_higher_address_limit(client):
    customer = ContactPersonFactory()
    per_account, per_address = failed_login_limits()

    for n in range(per_address - 1):
        _log_in(client, f"sprayed{n}@customer.example", "guess", REMOTE_ADDR=ATTACKER)
    below_the_limit = _log_in(client, customer.email, REMOTE_ADDR=ATTACKER)
    _log_in(client, "one.more@customer.example", "guess", REMOTE_ADDR=ATTACKER)
    at_the_limit = _log_in(client, customer.email, REMOTE_ADDR=ATTACKER)
    from_another_address = _log_in(client, customer.email, REMOTE_ADDR=OFFICE)

    assert per_address >= 10 * per_account
    assert _logged_in(below_the_limit)
    assert not _logged_in(at_the_limit) and TOO_MANY in at_the_limit.content.decode()
    assert _logged_in(from_another_address)


def test_without_trusted_proxies_a_forged_x_forwarded_for_does_not_escape_the_address_limit(client):
    customer = ContactPersonFactory()
    _, per_address = failed_login_limits()

    for n in range(per_address):
        _log_in(client, f"sprayed{n}@customer.example", "guess", REMOTE_ADDR=ATTACKER,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}")
    forged = _log_in(client, customer.email, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="203.0.113.251")

    assert not _logged_in(forged) and TOO_MANY in forged.content.decode()


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(client, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    customer = ContactPersonFactory()
    _, per_address = failed_login_limits()

    for n in range(per_address):  # the attacker forges the left of the header; the proxy appends the truth
        _log_in(client, f"sprayed{n}@customer.example", "guess", REMOTE_ADDR=proxy,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}, {ATTACKER}")
    attacker = _log_in(client, customer.email, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"203.0.113.251, {ATTACKER}")
    customer_behind_the_same_proxy = _log_in(client, customer.email, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=OFFICE)

    assert not _logged_in(attacker)
    assert _logged_in(customer_behind_the_same_proxy)


@pytest.mark.parametrize(("variable", "value", "setting"), [
    ("TRUSTED_PROXY_COUNT", "2", "TRUSTED_PROXY_COUNT"),
    ("TRUSTED_CLIENT_IP_HEADER", "X-Real-IP", "TRUSTED_CLIENT_IP_HEADER"),
])
def test_the_trusted_proxy_setting_comes_from_the_environment(variable, value, setting):
    code = f"from allauth import app_settings; print(app_settings.{setting})"

    loaded = load_settings("config.settings.dev", code, **{variable: value})

    assert loaded.stdout.strip() == value, loaded.stderr


@pytest.fixture
def shared_cache(settings):
    """The production cache: Redis, which every web node reads (DB 7, a prefix of this run's own)."""
    prefix = f"security-tests-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": SHARED_REDIS, "KEY_PREFIX": prefix}}
    yield prefix
    server = redis.Redis.from_url(SHARED_REDIS)
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def test_login_limits_are_kept_in_the_shared_redis_so_every_web_node_sees_them(client, shared_cache):
    attacked = ContactPersonFactory()
    per_account, _ = failed_login_limits()

    for _ in range(per_account):
        _log_in(client, attacked.email, "guess", REMOTE_ADDR=ATTACKER)
    locked = _log_in(client, attacked.email, REMOTE_ADDR=OFFICE)

    stored = [key.decode() for key in redis.Redis.from_url(SHARED_REDIS).scan_iter(f"{shared_cache}:*")]
    assert TOO_MANY in locked.content.decode()
    assert any(":allauth:rl:allauth.account:login_failed:" in key for key in stored), stored


def test_production_keeps_login_limits_in_redis_even_when_told_redis_is_unavailable():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"

    loaded = load_settings("config.settings.prod", code, **PRODUCTION_ENV, REDIS_AVAILABLE="0")

    assert loaded.stdout.strip() == "django.core.cache.backends.redis.RedisCache", loaded.stderr
