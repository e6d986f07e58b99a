"""Concurrent allocations on PostgreSQL: row locks keep an invoice from being over-paid."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from billing.models import Allocation, Invoice
from billing.services import allocate_payment
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory


def _race(payments, invoice, amount):
    barrier = threading.Barrier(len(payments))
    outcomes = []

    def pay(payment):
        try:
            barrier.wait()
            allocate_payment(payment=payment, allocations={invoice.pk: amount})
            outcomes.append("paid")
        except ValidationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(p,)) for p in payments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("racers", "amount"), [(2, Decimal("60.00")), (20, Decimal("100.00"))])
def test_concurrent_allocations_never_pay_an_invoice_beyond_its_total(racers, amount):
    parent = CustomerFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("100.00"))
    payments = PaymentFactory.create_batch(racers, customer=parent, amount=Decimal("100.00"))

    outcomes = _race(payments, invoice, amount)

    invoice.refresh_from_db()
    assert sorted(outcomes) == ["exceeds_invoice"] * (racers - 1) + ["paid"]
    assert sum(a.amount for a in Allocation.objects.filter(invoice=invoice)) == amount
    assert invoice.balance_due == Decimal("100.00") - amount
    assert invoice.status in (Invoice.Status.PAID, Invoice.Status.PARTIALLY_PAID)
