"""TOTP two-factor authentication through allauth, with codes computed from the secret (RFC 6238)."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value

from tests.factories import PORTAL_PASSWORD, ContactPersonFactory

pytestmark = pytest.mark.django_db


def _code(secret: str, *, windows_ahead: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + windows_ahead))


def _log_in(client, email):
    return client.post("/accounts/login/", {"login": email, "password": PORTAL_PASSWORD})


def _open_totp_activation(client) -> str:
    """My account → two-factor authentication → activate (allauth asks for the password again first);
    returns the secret the page shows as a QR code."""
    if client.get("/accounts/2fa/totp/activate/").status_code == 302:
        client.post("/accounts/reauthenticate/", {"password": PORTAL_PASSWORD,
                                                  "next": "/accounts/2fa/totp/activate/"})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    return client.session[SECRET_SESSION_KEY]


def test_a_contact_turns_on_totp_then_logs_in_again_with_a_code_and_reaches_home(client, settings):
    settings.MFA_TOTP_TOLERANCE = 1  # the second code is the next 30-second window's: a used code is refused
    contact = ContactPersonFactory(email="mfa@customer.example", user__email="mfa@customer.example")
    assert _log_in(client, "mfa@customer.example")["Location"] == "/"
    secret = _open_totp_activation(client)

    activated = client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    client.post("/accounts/logout/")
    password_step = _log_in(client, "mfa@customer.example")
    before_code = client.get("/")
    code_step = client.post("/accounts/2fa/authenticate/", {"code": _code(secret, windows_ahead=1)})
    home = client.get("/")

    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=contact.user, type=Authenticator.Type.TOTP).exists()
    assert password_step["Location"] == "/accounts/2fa/authenticate/"
    assert before_code.status_code == 302 and before_code["Location"].startswith("/accounts/login/")
    assert code_step["Location"] == "/"
    assert home.status_code == 200
    assert contact.customer.display_name in home.content.decode()


def test_a_wrong_totp_code_is_refused_and_the_contact_stays_logged_out(client):
    contact = ContactPersonFactory(email="mfa2@customer.example", user__email="mfa2@customer.example")
    _log_in(client, "mfa2@customer.example")
    secret = _open_totp_activation(client)
    client.post("/accounts/2fa/totp/activate/", {"code": _code(secret)})
    client.post("/accounts/logout/")
    _log_in(client, "mfa2@customer.example")
    wrong = str((int(_code(secret)) + 1) % 1_000_000).zfill(6)

    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session
    assert contact.user.authenticator_set.filter(type=Authenticator.Type.TOTP).count() == 1
