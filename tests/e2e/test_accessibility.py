"""Every portal page passes axe-core (from npm) without serious or critical findings, and logs no console errors."""

from decimal import Decimal
from pathlib import Path

import pytest

from billing.services import link_to_parent
from tests.factories import (
    PORTAL_PASSWORD,
    AllocationFactory,
    ContactPersonFactory,
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
)

from .conftest import log_in, watch_csp

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture
def portal_user():
    contact = ContactPersonFactory(customer__display_name="Axe Head Office", email="axe@customer.example",
                                   user__email="axe@customer.example")
    branch = CustomerFactory(display_name="Axe Branch")
    link_to_parent(customer=branch, parent=contact.customer)
    invoice = InvoiceFactory(customer=branch, number="AXE-INV-1", total=Decimal("120.00"))
    paid = InvoiceFactory(customer=contact.customer, number="AXE-INV-2", total=Decimal("80.00"),
                          balance_due=Decimal("0.00"), status="paid")
    payment = PaymentFactory(customer=contact.customer, number="AXE-PAY-1", amount=Decimal("80.00"),
                             unallocated=Decimal("0.00"))
    AllocationFactory(payment=payment, invoice=paid, amount=Decimal("80.00"))
    return dict(contact=contact, invoice=invoice, payment=payment)


def _blocking_violations(page) -> list[str]:
    # Not a <script> added to the page: that is inline code, which the Content-Security-Policy blocks.
    # Evaluated through the DevTools protocol instead (or loaded by the context's init script).
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_portal_pages_have_no_serious_accessibility_findings_or_console_errors(browser, live_server, portal_user,
                                                                              width):
    assert AXE.exists(), "axe-core is missing: run `npm ci` (make test does)"
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(path=str(AXE))
    csp_violations = watch_csp(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.goto(f"{live_server.url}/accounts/login/")
    findings = {"login": _blocking_violations(page)}
    log_in(page, live_server, "axe@customer.example", PORTAL_PASSWORD)
    paths = [
        "/",
        "/invoices/",
        "/invoices/?tab=outstanding",
        f"/invoices/{portal_user['invoice'].pk}/",
        "/retainer-invoices/",
        "/sales-orders/",
        "/subscriptions/",
        "/payments/",
        f"/payments/{portal_user['payment'].pk}/",
        "/statement/",
        "/my-details/",
        "/documents/",
        "/my-account/",
        "/pay/",
    ]
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        findings[path] = _blocking_violations(page)
    context.close()

    assert {path: found for path, found in findings.items() if found} == {}
    assert errors == []
    assert csp_violations == []
