"""Pay Now in a real browser (Playwright + Debian's Chromium) with the sandbox gateway."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Invoice, Payment
from tests.factories import PORTAL_PASSWORD, ContactPersonFactory, CustomerFactory, InvoiceFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def northwind():
    contact = ContactPersonFactory(
        customer__display_name="Northwind HQ", customer__allow_ach=True, email="hannah@northwind.example"
    )
    today = timezone.localdate()
    invoices = []
    for city, total, days in (("Boston", "1250.00", 3), ("Denver", "310.40", 8)):
        branch = CustomerFactory(display_name=f"Northwind {city}", parent=contact.customer, allow_parent_access=True)
        invoices.append(
            InvoiceFactory(
                customer=branch,
                total=Decimal(total),
                number=f"INV-{city.upper()}",
                due_on=today + dt.timedelta(days=days),
            )
        )
    return contact, invoices


def _log_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PORTAL_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_head_office_pays_two_branch_invoices_in_one_card_payment(page, live_server, northwind):
    contact, invoices = northwind
    _log_in(page, live_server, contact.email)

    page.goto(f"{live_server.url}/pay/")
    assert page.locator("[data-total]").inner_text() == "$1,560.40"
    page.get_by_label("New card").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Card 4242 4242 4242 4242: payment succeeds").check()
    page.get_by_role("button", name="Pay $1,560.40").click()

    page.get_by_role("heading", name="Thank you: payment received").wait_for()
    payment = Payment.objects.get()
    assert page.locator("[data-receipt]").inner_text() == payment.number
    assert page.locator('[data-balance="INV-BOSTON"]').inner_text() == "$0.00"
    assert page.locator('[data-balance="INV-DENVER"]').inner_text() == "$0.00"
    assert payment.allocations.count() == 2
    page.get_by_role("link", name="View receipt").click()
    page.wait_for_url(f"{live_server.url}/payments/{payment.pk}/")
    assert payment.number in page.content()


def test_an_ach_payment_shows_processing_then_settles(page, live_server, northwind):
    contact, invoices = northwind
    boston = invoices[0]
    _log_in(page, live_server, contact.email)

    page.goto(f"{live_server.url}/pay/invoice/{boston.pk}/")
    page.get_by_label("New US bank account (ACH)").check()
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_label("Bank account ···6789: processing, then settles").check()
    page.get_by_role("button", name="Pay $1,250.00").click()
    page.get_by_role("heading", name="Payment processing").wait_for()
    assert Payment.objects.get().status == Payment.Status.PENDING

    page.goto(f"{live_server.url}/pay/")
    assert "Payment processing" in page.content()  # the pending invoice can't be paid again
    page.go_back()
    page.get_by_role("button", name="Bank settles the payment").click()

    page.get_by_role("heading", name="Thank you: payment received").wait_for()
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert Invoice.objects.get(pk=boston.pk).balance_due == Decimal("0.00")


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_every_pay_page_passes_axe_and_fits_the_screen(browser, live_server, northwind, width):
    from tests.e2e.test_accessibility import AXE, _blocking_violations

    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does)"
    contact, (boston, _denver) = northwind
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    findings, overflow = {}, {}

    def check(name):
        findings[name] = _blocking_violations(page)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            overflow[name] = scroll_width

    _log_in(page, live_server, contact.email)
    page.goto(f"{live_server.url}/invoices/{boston.pk}/")
    page.get_by_role("link", name="Pay Now").click()
    check("pay invoice")
    page.get_by_label("New US bank account (ACH)").check()
    page.get_by_label("Use this for future payments").check()
    page.get_by_role("button", name="Continue to payment").click()
    check("checkout")
    page.get_by_label("Bank account ···6789: processing, then settles").check()
    page.get_by_role("button", name="Pay $1,250.00").click()
    check("processing")
    page.get_by_role("button", name="Bank settles the payment").click()
    check("paid")
    page.goto(f"{live_server.url}/pay/methods/")
    check("saved methods")
    context.close()

    assert {name: found for name, found in findings.items() if found} == {}
    assert overflow == {}
    assert errors == []
