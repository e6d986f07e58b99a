"""Every figures page costs the same number of SQL queries for 20 branches × 5 invoices as for one branch
with one invoice: the count is measured on the small case, then asserted exactly on the large one."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.services import link_to_parent
from tests.factories import AllocationFactory, ContactPersonFactory, CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

PAGES = {
    "home": lambda invoice, payment: "/",
    "home, second page of accounts": lambda invoice, payment: "/?accounts=2",
    "invoice list": lambda invoice, payment: "/invoices/?status=unpaid&sort=due_on",
    "invoice detail": lambda invoice, payment: f"/invoices/{invoice.pk}/",
    "payments": lambda invoice, payment: "/payments/",
    "payment detail": lambda invoice, payment: f"/payments/{payment.pk}/",
    "statement": lambda invoice, payment: "/statement/?period=this_year",
    "statement, second page": lambda invoice, payment: "/statement/?period=this_year&page=2&accounts=2",
    "retainer invoices": lambda invoice, payment: "/retainer-invoices/",
    "sales orders": lambda invoice, payment: "/sales-orders/?tab=all",
    "subscriptions": lambda invoice, payment: "/subscriptions/",
}


def _parent_with_branches(branches: int, invoices_each: int):
    """A head office whose branches each have partly paid invoices; returns (contact, last invoice, payment)."""
    contact = ContactPersonFactory()
    for _ in range(branches):
        branch = CustomerFactory()
        link_to_parent(customer=branch, parent=contact.customer)
        for _ in range(invoices_each):
            invoice = InvoiceFactory(customer=branch, total=Decimal("20.00"), balance_due=Decimal("10.00"),
                                     status="partially_paid")
            payment = PaymentFactory(customer=branch, amount=Decimal("10.00"), unallocated=Decimal("0.00"))
            AllocationFactory(payment=payment, invoice=invoice, amount=Decimal("10.00"))
    return contact, invoice, payment


def _queries(client, contact, path) -> int:
    client.force_login(contact.user)
    assert client.get(path).status_code == 200  # the first view of an invoice records itself: not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", PAGES)
def test_a_page_costs_as_many_queries_for_20_branches_of_5_invoices_as_for_1_branch_with_1_invoice(
    client, django_assert_num_queries, page
):
    small = _parent_with_branches(1, 1)
    expected = _queries(client, small[0], PAGES[page](*small[1:]))
    contact, invoice, payment = _parent_with_branches(20, 5)
    path = PAGES[page](invoice, payment)
    client.force_login(contact.user)
    client.get(path)

    with django_assert_num_queries(expected):
        response = client.get(path)

    assert response.status_code == 200
