"""The document forms' script in Chromium: picking an item shows the customer's effective figures."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.services import create_invoice
from tests.factories import PORTAL_PASSWORD, CustomerFactory, CustomerGroupFactory, ItemFactory, StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, live_server):
    staff = StaffUserFactory()
    page.goto(f"{live_server.url}{reverse('admin:login')}")  # hands over to the portal's login page
    page.get_by_label("Email").fill(staff.email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}{reverse('admin:index')}")


def test_picking_an_item_on_a_draft_invoice_shows_the_partner_rate_and_discount(page, live_server):
    partner = CustomerFactory(group=CustomerGroupFactory(name="Partners", discount_percent=Decimal("2.00")))
    ItemFactory(name="Edge router", rate=Decimal("399.00"))
    invoice = create_invoice(customer=partner, lines=[], require_lines=False)
    _log_in(page, live_server)
    page.goto(f"{live_server.url}{reverse('admin:billing_invoice_change', args=[invoice.pk])}")

    page.locator("#lines-0 .select2-selection").click()
    page.locator(".select2-search__field").fill("Edge")
    page.locator(".select2-results__option", has_text="Edge router").click()

    # A locator wait, not wait_for_function: a string predicate is evaluated as JavaScript, which the
    # admin's Content-Security-Policy (no 'unsafe-eval') may refuse.
    page.locator("#id_lines-0-item-effective", has_text="$391.02").wait_for()
    note = page.locator("#id_lines-0-item-effective")
    assert page.get_attribute("#id_lines-0-rate", "placeholder") == "399.00"
    assert page.get_attribute("#id_lines-0-discount_percent", "placeholder") == "2.00"
    assert page.input_value("#id_lines-0-discount_percent") == ""
    assert "group default" in note.text_content()
