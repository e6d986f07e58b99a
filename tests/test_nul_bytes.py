"""A NUL byte in an address is a 400, never a server error, on every part of the site."""

import pytest

from tests.factories import ContactPersonFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/admin/auth/user/?q=%00",
        "/admin/account/emailaddress/?q=a%00b",
        "/admin/billing/checkoutattempt/?status__exact=%00",
        "/admin/crmsync/syncrun/?status__exact=%00",
        "/admin/billing/customer/?%00=1",
    ],
)
def test_staff_pages_answer_a_nul_byte_with_400(client, url):
    client.force_login(StaffUserFactory())

    assert client.get(url).status_code == 400


def test_portal_pages_answer_a_nul_byte_with_400(client):
    client.force_login(ContactPersonFactory().user)

    assert client.get("/invoices/?status=%00").status_code == 400


def test_ordinary_query_strings_pass(client):
    client.force_login(StaffUserFactory())

    assert client.get("/admin/auth/user/?q=caf%C3%A9").status_code == 200
