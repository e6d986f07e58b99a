"""The portal walk from issue 9. Its screenshots go to /tmp/portal-walk/ for a look after a failure; the
README's docs/screenshots/ come from the demo data: `python -m tests.e2e.screenshots --base-url …`."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import InvoiceLine, Organisation
from billing.services import link_to_parent
from tests.factories import (
    PORTAL_PASSWORD,
    AllocationFactory,
    ContactPersonFactory,
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
    StaffUserFactory,
)

from .conftest import log_in, staff_session, watch_csp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/portal-walk")


def _story():
    organisation = Organisation.current()
    organisation.name = "Acme Networks"
    organisation.email = "billing@acme.example"
    organisation.phone = "+1 415 555 0100"
    organisation.address = "500 Market Street\nSan Francisco, CA 94105"
    organisation.portal_banner_message = "Our bank details changed on 1 November: see your latest invoice."
    organisation.save()
    staff = StaffUserFactory(email="bookkeeper@acme.example")
    contact = ContactPersonFactory(customer__display_name="Northwind Holdings", first_name="Dana",
                                   last_name="Reyes", customer__billing_address="1 Harbour Road\nSeattle, WA")
    head = contact.customer
    branches = [CustomerFactory(display_name=f"Northwind {city}") for city in ("Boston", "Chicago", "Denver")]
    for branch in branches:
        link_to_parent(customer=branch, parent=head)
    link_to_parent(customer=CustomerFactory(display_name="Northwind Austin (private)"), parent=head,
                   allow_parent_access=False)
    today = timezone.localdate()
    last_quarter_day = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1) - dt.timedelta(days=20)
    for i, customer in enumerate([head, *branches]):
        overdue = InvoiceFactory(customer=customer, number=f"INV-10{i}1", total=Decimal("1250.00") + i * 100,
                                 issued_on=last_quarter_day, due_on=last_quarter_day + dt.timedelta(days=30))
        InvoiceLine.objects.filter(invoice=overdue).update(description="Managed network service, quarterly")
        InvoiceFactory(customer=customer, number=f"INV-10{i}2", total=Decimal("480.00"))
        paid = InvoiceFactory(customer=customer, number=f"INV-10{i}3", total=Decimal("320.00"),
                              balance_due=Decimal("0.00"), status="paid", issued_on=last_quarter_day)
        payment = PaymentFactory(customer=customer, number=f"PAY-10{i}1", amount=Decimal("320.00"),
                                 unallocated=Decimal("0.00"), paid_on=last_quarter_day + dt.timedelta(days=5),
                                 reference=f"ACH-77{i}")
        AllocationFactory(payment=payment, invoice=paid, amount=Decimal("320.00"))
    return contact, staff


def test_head_office_walk_through_the_portal(live_server, browser):
    contact, staff = _story()
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    csp_violations = watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(20_000)

    log_in(page, live_server, contact.email, PORTAL_PASSWORD)
    # 1,250 + 1,350 + 1,450 + 1,550 overdue, plus 4 × 480 not yet due
    assert page.locator('[data-figure="outstanding_invoices"]').inner_text() == "$7,520.00"
    assert "Northwind Austin" not in page.content()
    page.screenshot(path=SHOTS / "home-desktop.png", full_page=True)

    page.goto(f"{live_server.url}/invoices/?tab=outstanding")
    page.get_by_label("Account").select_option(label="Northwind Boston")
    page.get_by_role("button", name="Apply").click()
    # expect() retries until the filtered page has loaded; a bare count() may read the page before it.
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/invoices/")
    page.screenshot(path=SHOTS / "invoices-desktop.png", full_page=True)

    page.get_by_role("link", name="INV-1001").click()
    page.wait_for_url("**/invoices/*/")
    page.screenshot(path=SHOTS / "invoice-detail.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == "INV-1001.pdf"
    download.value.save_as("/tmp/portal-invoice.pdf")

    page.get_by_label("Add a comment").fill("Could you split this into two instalments?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".messages")).to_contain_text("Comment posted")
    assert "Could you split this into two instalments?" in page.content()

    page.get_by_label("Recipient's email").fill("ap@northwind.example")
    page.get_by_role("button", name="Forward").click()
    expect(page.locator(".messages")).to_contain_text("ap@northwind.example")

    page.goto(f"{live_server.url}/statement/?period=last_quarter")
    page.screenshot(path=SHOTS / "statement.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").click()
    download.value.save_as("/tmp/portal-statement.pdf")
    assert download.value.suggested_filename.startswith("Statement-")

    page.goto(f"{live_server.url}/payments/")
    page.screenshot(path=SHOTS / "payments.png", full_page=True)
    page.get_by_role("link", name="PAY-1001").click()
    page.wait_for_url("**/payments/*/")
    assert "INV-1003" in page.content()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    download.value.save_as("/tmp/portal-receipt.pdf")

    # The sandbox pay pages: pay one invoice by card, the sandbox's "succeeds" outcome.
    page.goto(f"{live_server.url}/invoices/")
    page.get_by_role("link", name="INV-1002").click()
    page.wait_for_url("**/invoices/*/")
    page.goto(page.url.replace("/invoices/", "/pay/invoice/"))
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url("**/pay/checkout/**")
    page.get_by_label("payment succeeds").check()
    page.locator("[data-pay]").click()
    page.wait_for_url("**/done/")
    page.goto(f"{live_server.url}/pay/methods/")
    context.close()

    # What a bookkeeper opens in the back office keeps the policy too.
    admin = browser.new_context(viewport={"width": 1280, "height": 900})
    admin_violations = watch_csp(admin)
    staff_session(admin, live_server, staff)
    page = admin.new_page()
    invoice = contact.customer.invoices.order_by("pk").first()
    for path in ["/admin/", "/admin/billing/invoice/", f"/admin/billing/invoice/{invoice.pk}/change/",
                 "/admin/billing/customer/", f"/admin/billing/customer/{contact.customer.pk}/change/",
                 f"/admin/billing/customer/{contact.customer.pk}/hierarchy/", "/admin/portal/forwardeddocument/",
                 "/admin/billing/payment/", "/admin/billing/invoice/add/",
                 reverse("admin:billing_customer_statement", args=[contact.customer.pk]),
                 reverse("admin:crmsync_crmconnection_changelist")]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        page.wait_for_load_state("load")
    page.screenshot(path=SHOTS / "admin-hierarchy.png", full_page=True)
    admin.close()
    assert csp_violations == []
    assert admin_violations == []

    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    phone_violations = watch_csp(phone)
    page = phone.new_page()
    log_in(page, live_server, contact.email, PORTAL_PASSWORD)
    page.screenshot(path=SHOTS / "home-phone.png", full_page=True)
    page.goto(f"{live_server.url}/invoices/")
    page.screenshot(path=SHOTS / "invoices-phone.png", full_page=True)
    phone.close()
    assert phone_violations == []
