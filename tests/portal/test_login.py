import re

import pytest
from django.core import mail

from billing.services import invite_contact
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a long new portal password 42"


def test_invited_contact_sets_a_password_logs_in_and_sees_the_customer_and_its_branches(
        client, head_office, django_capture_on_commit_callbacks):
    contact = ContactPersonFactory(customer=head_office["parent"], is_primary=False, user=None,
                                   portal_enabled=False, email="new.person@customer.example")
    with django_capture_on_commit_callbacks(execute=True):
        invite_contact(contact=contact)
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    path = re.sub(r"^https?://[^/]+", "", link)

    form_page = client.get(path, follow=True)
    set_password = client.post(form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
                               {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, follow=True)
    client.logout()
    credentials = {"login": "new.person@customer.example", "password": NEW_PASSWORD}
    login = client.post("/accounts/login/", credentials, follow=True)

    assert "Your password is set" in set_password.content.decode()
    page = login.content.decode()
    assert login.redirect_chain[-1][0] == "/"
    assert "Head Office Ltd" in page and "Shared Branch" in page


def test_a_middle_branch_closed_to_the_parent_and_everything_below_it_is_not_shown(client, head_office):
    client.force_login(head_office["contact"].user)

    page = client.get("/").content.decode()

    assert "Shared Branch" in page
    assert "Private Branch" not in page and "Below Private Branch" not in page


def test_portal_pages_send_anonymous_visitors_to_the_login_page(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_portal_user_opening_the_admin_gets_the_admin_login_page_not_access(client):
    contact = ContactPersonFactory()
    client.post("/accounts/login/", {"login": contact.email, "password": PORTAL_PASSWORD})

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0].startswith("/admin/login/")
    assert "Customers, invoices and payments" not in response.content.decode()


def test_staff_without_a_contact_person_get_a_page_pointing_to_the_back_office(client, staff_user):
    client.force_login(staff_user)

    response = client.get("/")

    assert response.status_code == 200
    assert "This login is for staff" in response.content.decode()
    assert 'href="/admin/"' in response.content.decode()


def test_the_sign_up_page_offers_no_sign_up(client):
    response = client.get("/accounts/signup/")
    page = response.content.decode()

    assert "Logins are by invitation" in page
    assert 'name="password1"' not in page


def test_a_wrong_password_is_refused_with_a_message_on_the_login_form(client):
    contact = ContactPersonFactory()

    response = client.post("/accounts/login/", {"login": contact.email, "password": "wrong"})

    assert response.status_code == 200
    assert "not correct" in response.content.decode()


CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/156.0.0.0 Safari/537.36")
SAFARI_ON_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                    "Version/18.2 Mobile/15E148 Safari/604.1")


def test_each_login_is_listed_in_my_account_with_its_browser_in_words(client):
    contact = ContactPersonFactory()
    for user_agent in (CHROME_ON_WINDOWS, SAFARI_ON_IPHONE, "TestBrowser/1.0"):
        client.logout()
        client.post("/accounts/login/", {"login": contact.email, "password": PORTAL_PASSWORD},
                    HTTP_USER_AGENT=user_agent)

    page = client.get("/my-account/").content.decode()

    browsers = re.findall(r'<td class="hide-sm muted" title="[^"]*">([^<]*)</td>', page)
    assert browsers == ["Unknown browser", "Mobile Safari 18 on iOS 18", "Chrome 156 on Windows 10"]  # newest first
    assert 'title="TestBrowser/1.0"' in page  # the whole header stays one hover away


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/", "/accounts/signup/"])
def test_logged_out_pages_render_in_the_portal_layout(client, path):
    page = client.get(path).content.decode()

    assert 'class="skip-link"' in page and "<main" in page


@pytest.mark.parametrize("path", ["/accounts/password/change/", "/accounts/2fa/",
                                  "/my-account/"])
def test_account_pages_render_in_the_portal_layout_for_a_logged_in_contact(client, path):
    contact = ContactPersonFactory()
    client.post("/accounts/login/", {"login": contact.email, "password": PORTAL_PASSWORD})

    response = client.get(path, follow=True)

    assert response.status_code == 200
    assert 'aria-label="Portal"' in response.content.decode()
