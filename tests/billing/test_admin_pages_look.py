"""The back office as a bookkeeper sees it in Chromium: pages fit the window."""

import pytest
from django.urls import reverse

from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, CustomerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, live_server):
    staff = StaffUserFactory()
    page.goto(f"{live_server.url}{reverse('admin:login')}")  # hands over to the portal's login page
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{reverse('admin:index')}")


def test_the_customer_page_with_its_contact_persons_fits_the_window_without_sideways_scrolling(page, live_server):
    customer = CustomerFactory(display_name="Northwind Networks")
    ContactPersonFactory(customer=customer, first_name="Hannah", last_name="Reed", designation="Accounts payable")
    ContactPersonFactory(customer=customer, first_name="Li", last_name="Wei", is_primary=False)
    _log_in(page, live_server)

    page.goto(f"{live_server.url}{reverse('admin:billing_customer_change', args=[customer.pk])}")

    assert page.get_by_role("heading", name="Contact persons").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the window"
