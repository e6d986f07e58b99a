from datetime import date
from decimal import Decimal

import pytest

from billing.models import Allocation, Customer
from billing.selectors import LineKind, customers_under, statement
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

MARCH = dict(start=date(2026, 3, 1), end=date(2026, 3, 31))


def _only(customer):
    return Customer.objects.filter(pk=customer.pk)


@pytest.mark.parametrize("branches", [1, 50])
def test_statement_costs_the_same_queries_for_one_or_fifty_branches(branches, django_assert_num_queries):
    parent = CustomerFactory()
    payment = PaymentFactory(customer=parent, amount=Decimal("1000.00"), paid_on=date(2026, 3, 2))
    for branch in CustomerFactory.create_batch(branches, parent=parent):
        InvoiceFactory(customer=branch, issued_on=date(2026, 2, 10), total=Decimal("10.00"))
        invoice = InvoiceFactory(customer=branch, issued_on=date(2026, 3, 10), total=Decimal("5.00"))
        Allocation.objects.create(
            payment=payment, invoice=invoice, amount=Decimal("5.00"), applied_on=date(2026, 3, 11)
        )
        CreditNoteFactory(customer=branch, issued_on=date(2026, 3, 12), total=Decimal("1.00"))

    with django_assert_num_queries(17):
        result = statement(customers=customers_under(customer_id=parent.pk), **MARCH)

    assert result.opening_balance == Decimal("10.00") * branches
    assert result.closing_balance == Decimal("10.00") * branches + Decimal("4.00") * branches - Decimal(
        "1000.00"
    )
    assert len(result.sections) == branches + 1
    assert not any(line.kind == LineKind.TRANSFER_IN for line in result.lines)  # internal: they cancel
