"""Pay Now costs the same number of queries for 2 invoices as for 20."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.gateways.sandbox import SandboxGateway
from billing.models import Payment
from billing.services.online_payments import start_checkout
from tests.factories import CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _branch_invoices(office, count):
    invoices = []
    for _ in range(count):
        branch = CustomerFactory(parent=office["hq"], allow_parent_access=True)
        invoices.append(InvoiceFactory(customer=branch, total=Decimal("10.00")))
    return invoices


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_the_pay_outstanding_page_does_not_query_per_invoice(client, head_office):
    client.force_login(head_office["contact"].user)
    url = reverse("portal:pay-outstanding")
    client.get(url)  # warm the session and organisation rows
    few = _queries(lambda: client.get(url))
    _branch_invoices(head_office, 18)

    many = _queries(lambda: client.get(url))

    assert many == few


def test_starting_a_checkout_does_not_query_per_invoice(head_office):
    gateway = SandboxGateway()
    small = {inv.pk: inv.balance_due for inv in _branch_invoices(head_office, 2)}
    large = {inv.pk: inv.balance_due for inv in _branch_invoices(head_office, 20)}

    def start(allocations):
        return lambda: start_checkout(
            payer=head_office["hq"],
            allocations=allocations,
            currency="USD",
            method=Payment.Method.CARD,
            gateway=gateway,
        )

    start({head_office["east_invoice"].pk: Decimal("120.00")})()  # an open attempt exists for both measurements

    assert _queries(start(small)) == _queries(start(large))
