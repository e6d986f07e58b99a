import pytest

from billing.services import link_to_parent
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, CustomerFactory

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_contact_logs_in_through_chromium_and_sees_its_branch_names(live_server, page):
    contact = ContactPersonFactory(customer__display_name="Northwind Head Office")
    link_to_parent(customer=CustomerFactory(display_name="Northwind Leeds"), parent=contact.customer)
    link_to_parent(customer=CustomerFactory(display_name="Northwind Secret"), parent=contact.customer,
                   allow_parent_access=False)

    log_in(page, live_server, contact.email, PORTAL_PASSWORD)

    body = page.locator("main").inner_text()
    assert "Northwind Head Office" in body and "Northwind Leeds" in body
    assert "Northwind Secret" not in body
