"""Staff sign in as an outsider would try it: the admin's login page, wrong passwords, TOTP, enrolment.

Staff sign in through allauth like customers, so a TOTP code is asked for whichever page they start
from, and the same per-account and per-address limits apply.
"""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core.cache import cache

from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, StaffUserFactory

from .auth_helpers import (
    LOGIN_URL,
    PRODUCTION_ENV,
    TOO_MANY,
    give_totp,
    load_settings,
    production_login_limits,
    totp_code,
)

pytestmark = pytest.mark.django_db
BACK_OFFICE = "Customers, invoices and payments"  # the admin index's title


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()  # rate limits live in the cache: one test's attempts must not count in the next
    yield
    cache.clear()


@pytest.fixture
def login_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = production_login_limits()


@pytest.fixture
def staff():
    return StaffUserFactory(email="boss@billing.example", username="boss@billing.example")


def _sign_in_form_of_the_back_office(client) -> str:
    """Where a visitor lands when opening /admin/ logged out: the form they sign in with."""
    landed = client.get("/admin/", follow=True)
    return landed.redirect_chain[-1][0]


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_password_alone_posted_to_the_admin_login_does_not_log_in_a_staff_user_with_totp(client, staff):
    give_totp(staff)

    client.post("/admin/login/", {"username": staff.username, "password": PORTAL_PASSWORD, "next": "/admin/"})
    admin = client.get("/admin/")

    assert not _logged_in(client)
    assert admin.status_code == 302 and BACK_OFFICE not in admin.content.decode()


def test_the_admin_login_checks_no_password_and_hands_over_to_the_portal_login_keeping_next(client, staff):
    response = client.post("/admin/login/?next=/admin/billing/invoice/",
                           {"username": staff.username, "password": PORTAL_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=%2Fadmin%2Fbilling%2Finvoice%2F"
    assert not _logged_in(client)


def test_the_admin_login_hands_over_to_the_back_office_index_when_next_points_elsewhere(client):
    response = client.get("/admin/login/?next=https://evil.example/")

    assert response["Location"] == f"{LOGIN_URL}?next=%2Fadmin%2F"


def test_the_login_page_the_admin_hands_over_to_says_it_is_the_back_office_sign_in(client):
    page = client.get(_sign_in_form_of_the_back_office(client)).content.decode()

    assert "Back office of" in page and 'name="next" value="/admin/"' in page


def test_a_signed_in_staff_user_opening_the_admin_login_goes_on_to_next(client, staff):
    client.force_login(staff)

    response = client.get("/admin/login/?next=/admin/billing/invoice/")

    assert response["Location"] == "/admin/billing/invoice/"


def test_a_staff_user_with_totp_opens_the_admin_with_password_then_code(client, staff):
    secret = give_totp(staff)
    form = _sign_in_form_of_the_back_office(client)

    password_step = client.post(form, {"login": staff.email, "password": PORTAL_PASSWORD})
    before_code = client.get("/admin/")
    code_step = client.post(password_step["Location"], {"code": totp_code(secret)})
    admin = client.get("/admin/")

    assert form == f"{LOGIN_URL}?next=%2Fadmin%2F"
    assert password_step["Location"] == "/accounts/2fa/authenticate/"
    assert before_code.status_code == 302
    assert code_step["Location"] == "/admin/"
    assert admin.status_code == 200 and BACK_OFFICE in admin.content.decode()


def test_thirty_wrong_passwords_for_a_staff_login_are_throttled_with_a_clear_message(client, staff, login_limits):
    form = _sign_in_form_of_the_back_office(client)
    wrong = {"login": staff.email, "username": staff.username, "password": "not the password"}

    answers = [client.post(form, wrong) for _ in range(30)]
    right_password = client.post(form, {**wrong, "password": PORTAL_PASSWORD})

    assert TOO_MANY not in answers[0].content.decode()
    assert TOO_MANY in answers[-1].content.decode()
    assert TOO_MANY in right_password.content.decode()  # the account stays locked while attacked
    assert not _logged_in(client)


def test_wrong_totp_codes_for_a_staff_login_are_throttled_too(client, staff, login_limits):
    secret = give_totp(staff)
    wrong_code = str((int(totp_code(secret)) + 1) % 1_000_000).zfill(6)
    client.post(_sign_in_form_of_the_back_office(client), {"login": staff.email, "password": PORTAL_PASSWORD})

    answers = [client.post("/accounts/2fa/authenticate/", {"code": wrong_code}) for _ in range(10)]
    right_code = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert TOO_MANY in answers[-1].content.decode()
    assert right_code.status_code == 200 and not _logged_in(client)


def test_with_mandatory_mfa_a_staff_login_without_totp_must_enrol_before_reaching_the_admin(client, staff, settings):
    settings.STAFF_MFA_REQUIRED = True

    signed_in = client.post(_sign_in_form_of_the_back_office(client),
                            {"login": staff.email, "password": PORTAL_PASSWORD})
    admin = client.get("/admin/")
    a_changelist = client.get("/admin/billing/invoice/")
    asks_password_again = client.get(admin["Location"])
    client.post(asks_password_again["Location"], {"password": PORTAL_PASSWORD})  # allauth's rule for MFA changes
    enrolment = client.get("/accounts/2fa/totp/activate/")
    secret = client.session[SECRET_SESSION_KEY]
    enrolled = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    admin_after = client.get("/admin/")

    assert signed_in["Location"] == "/admin/"
    assert admin.status_code == 302 and admin["Location"] == "/accounts/2fa/totp/activate/"
    assert a_changelist.status_code == 302 and a_changelist["Location"] == "/accounts/2fa/totp/activate/"
    assert asks_password_again["Location"].startswith("/accounts/reauthenticate/")
    assert enrolment.status_code == 200 and "two-factor authentication" in enrolment.content.decode()
    assert enrolled.status_code == 302
    assert admin_after.status_code == 200 and BACK_OFFICE in admin_after.content.decode()


def test_with_mandatory_mfa_a_superuser_cannot_turn_its_authenticator_off(client, staff, settings):
    settings.STAFF_MFA_REQUIRED = True
    secret = give_totp(staff)
    client.post(LOGIN_URL, {"login": staff.email, "password": PORTAL_PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    client.post("/accounts/reauthenticate/", {"password": PORTAL_PASSWORD})

    response = client.post("/accounts/2fa/totp/deactivate/")

    assert "You cannot deactivate two-factor authentication" in response.content.decode()
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()


def test_mandatory_staff_mfa_asks_nothing_more_of_portal_contacts(client, settings):
    settings.STAFF_MFA_REQUIRED = True
    contact = ContactPersonFactory()

    client.post(LOGIN_URL, {"login": contact.email, "password": PORTAL_PASSWORD})
    home = client.get("/")

    assert home.status_code == 200 and contact.customer.display_name in home.content.decode()


def test_a_portal_login_opening_the_admin_is_told_to_log_in_as_staff_instead_of_looping(client):
    contact = ContactPersonFactory()
    client.post(LOGIN_URL, {"login": contact.email, "password": PORTAL_PASSWORD})

    response = client.get("/admin/", follow=True)

    assert response.status_code == 200
    assert "The back office is for staff" in response.content.decode()


def test_production_makes_staff_mfa_mandatory_unless_told_otherwise():
    code = "from django.conf import settings; print(settings.STAFF_MFA_REQUIRED)"

    production = load_settings("config.settings.prod", code, **PRODUCTION_ENV)
    development = load_settings("config.settings.dev", code)

    assert production.stdout.strip() == "True", production.stderr
    assert development.stdout.strip() == "False", development.stderr
