"""The statement on a phone (390 × 844): the per-account table reads one block per account, every figure on
screen (no Closing column pushed off to the right), and a head office with many branches types the account,
with suggestions as it types. Screenshots go to /tmp/portal-walk/ for a look."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.services import link_to_parent, record_payment
from portal.forms import StatementForm
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, CustomerFactory, InvoiceFactory

from .conftest import log_in, watch_csp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/portal-walk")
PHONE = {"width": 390, "height": 844}


def _head_office(branches=("Boston", "Chicago", "Denver")):
    contact = ContactPersonFactory(customer__display_name="Northwind Holdings")
    head = contact.customer
    today = timezone.localdate()
    own = InvoiceFactory(customer=head, number="INV-2001", total=Decimal("1560.00"), issued_on=today)
    paid_for = []
    for i, city in enumerate(branches):
        branch = CustomerFactory(display_name=f"Northwind {city}")
        link_to_parent(customer=branch, parent=head)
        invoice = InvoiceFactory(customer=branch, number=f"INV-21{i:02d}", total=Decimal("920.00") + i,
                                 issued_on=today)
        if i == 0:
            paid_for.append(invoice)
    record_payment(customer=head, amount=Decimal("2480.00"), paid_on=today, method="cheque", reference="CHQ-7",
                   allocations={own.pk: Decimal("1560.00"), paid_for[0].pk: Decimal("920.00")})
    return contact


def test_on_a_phone_the_per_account_table_shows_every_figure_of_each_account_on_screen(live_server, browser):
    contact = _head_office()
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE)
    violations = watch_csp(context)
    page = context.new_page()
    log_in(page, live_server, contact.email, PORTAL_PASSWORD)

    page.goto(f"{live_server.url}/statement/?period=this_month")

    table = page.locator("table.per-account")
    table.scroll_into_view_if_needed()
    page.screenshot(path=SHOTS / "statement-phone.png", full_page=True)
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(4)
    for i in range(4):
        for label in ("Opening", "Invoiced", "Paid", "From other accounts", "To other accounts", "Closing"):
            cell = rows.nth(i).locator(f'td[data-label="{label}"]')
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (i, label, box)
    boston = table.locator("tbody tr", has_text="Northwind Boston")
    expect(boston.locator('td[data-label="Closing"]')).to_have_text("$0.00")
    expect(boston.locator('td[data-label="From other accounts"]')).to_have_text("−$920.00")
    assert table.bounding_box()["width"] <= PHONE["width"]
    assert violations == []
    context.close()


def test_a_head_office_with_many_branches_types_the_account_and_is_offered_their_names(live_server, browser):
    contact = _head_office(branches=[f"Branch {n:03d}" for n in range(StatementForm.ACCOUNT_LIST_MAX)] + ["Boston"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = watch_csp(context)
    page = context.new_page()
    log_in(page, live_server, contact.email, PORTAL_PASSWORD)
    page.goto(f"{live_server.url}/statement/?period=this_month")

    field = page.get_by_role("combobox", name="Account")
    field.press_sequentially("bost", delay=30)

    expect(page.locator("datalist option")).to_have_count(1)
    assert page.locator("datalist option").get_attribute("value") == "Northwind Boston"
    field.fill("Northwind Boston")
    page.get_by_role("button", name="Show statement").click()
    expect(page.locator("table.lines tbody")).to_contain_text("INV-2150")
    expect(page.get_by_role("combobox", name="Account")).to_have_value("Northwind Boston")
    assert "INV-2001" not in page.locator("table.lines").inner_text()
    assert violations == []
    context.close()
