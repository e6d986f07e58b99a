from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Invoice, Payment, Refund
from billing.services import allocate_payment, refund_payment
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def test_refunding_a_payments_excess_leaves_its_allocations_alone():
    invoice = InvoiceFactory(total=Decimal("70.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("100.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("70.00")})

    refund_payment(payment=payment, amount=Decimal("30.00"), reverse_allocations=False)

    payment = _fresh(payment)
    assert (payment.unallocated, payment.refunded_amount, payment.status) == (
        Decimal("0.00"),
        Decimal("30.00"),
        Payment.Status.SUCCEEDED,
    )
    assert _fresh(invoice).status == Invoice.Status.PAID


def test_refunding_beyond_the_excess_without_reversal_is_refused():
    invoice = InvoiceFactory(total=Decimal("70.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("100.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("70.00")})

    with pytest.raises(ValidationError) as refused:
        refund_payment(payment=payment, amount=Decimal("30.01"), reverse_allocations=False)

    assert refused.value.code == "exceeds_unallocated"
    assert not Refund.objects.exists()


def test_a_gateway_refund_reverses_allocations_newest_first_and_reopens_the_invoices():
    parent = CustomerFactory()
    older = InvoiceFactory(customer=parent, total=Decimal("60.00"))
    newer = InvoiceFactory(customer=CustomerFactory(parent=parent), total=Decimal("40.00"))
    payment = PaymentFactory(customer=parent, amount=Decimal("110.00"))
    allocate_payment(payment=payment, allocations={older.pk: Decimal("60.00")})
    allocate_payment(payment=payment, allocations={newer.pk: Decimal("40.00")})

    refund = refund_payment(
        payment=payment, amount=Decimal("60.00"), gateway_refund_id="re_1", refunded_on=date(2026, 3, 20)
    )

    assert [(r.allocation.invoice_id, r.amount) for r in refund.allocation_reversals.all()] == [
        (newer.pk, Decimal("40.00")),
        (older.pk, Decimal("10.00")),
    ]
    assert (_fresh(newer).balance_due, _fresh(newer).status) == (Decimal("40.00"), Invoice.Status.SENT)
    assert (_fresh(older).balance_due, _fresh(older).status) == (
        Decimal("10.00"),
        Invoice.Status.PARTIALLY_PAID,
    )
    assert _fresh(payment).unallocated == Decimal("0.00")


def test_a_full_refund_marks_the_payment_refunded_and_the_invoice_owes_everything_again():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("100.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("100.00")})

    refund_payment(payment=payment, amount=Decimal("100.00"))

    assert _fresh(payment).status == Payment.Status.REFUNDED
    assert (_fresh(invoice).balance_due, _fresh(invoice).status) == (Decimal("100.00"), Invoice.Status.SENT)


def test_the_same_gateway_refund_recorded_twice_is_recorded_once():
    payment = PaymentFactory(amount=Decimal("100.00"))

    first = refund_payment(payment=payment, amount=Decimal("25.00"), gateway_refund_id="re_42")
    again = refund_payment(payment=payment, amount=Decimal("25.00"), gateway_refund_id="re_42")

    assert first == again
    assert _fresh(payment).refunded_amount == Decimal("25.00")


def test_refunding_more_than_was_paid_is_refused():
    payment = PaymentFactory(amount=Decimal("100.00"))
    refund_payment(payment=payment, amount=Decimal("90.00"))

    with pytest.raises(ValidationError) as refused:
        refund_payment(payment=payment, amount=Decimal("10.01"))

    assert refused.value.code == "exceeds_refundable"
    assert "10.00 USD left to refund" in refused.value.messages[0]
