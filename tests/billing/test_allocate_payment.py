from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Allocation, DocumentSequence, Invoice, Payment
from billing.services import allocate_oldest_first, allocate_payment, record_payment
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

MARCH_1 = date(2026, 3, 1)
MARCH_5 = date(2026, 3, 5)


def _state(*objects):
    return [
        (o.balance_due, o.status) if isinstance(o, Invoice) else (o.unallocated,)
        for o in (type(o).objects.get(pk=o.pk) for o in objects)
    ]


def test_partial_payments_leave_the_rest_owing_until_the_last_cent():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("100.00"))

    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("33.33")})
    after_first = _state(invoice)
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("66.67")})

    assert after_first == [(Decimal("66.67"), Invoice.Status.PARTIALLY_PAID)]
    assert _state(invoice, payment) == [(Decimal("0.00"), Invoice.Status.PAID), (Decimal("0.00"),)]


def test_a_parent_payment_is_allocated_across_three_branches_and_the_excess_stays_as_credit():
    parent = CustomerFactory(display_name="Northwind Networks")
    boston, denver, austin = (CustomerFactory(parent=parent) for _ in range(3))
    invoices = [
        InvoiceFactory(customer=boston, total=Decimal("120.10"), issued_on=MARCH_1),
        InvoiceFactory(customer=denver, total=Decimal("250.00"), issued_on=MARCH_1),
        InvoiceFactory(customer=austin, total=Decimal("99.95"), issued_on=MARCH_1),
    ]

    payment = record_payment(
        customer=parent,
        amount=Decimal("500.00"),
        paid_on=MARCH_5,
        method=Payment.Method.CHEQUE,
        reference="CHQ 1042",
        allocations={
            invoices[0].pk: Decimal("120.10"),
            invoices[1].pk: Decimal("200.00"),
            invoices[2].pk: Decimal("99.95"),
        },
    )

    assert payment.number == "PAY-00001"
    assert _state(*invoices, payment) == [
        (Decimal("0.00"), Invoice.Status.PAID),
        (Decimal("50.00"), Invoice.Status.PARTIALLY_PAID),
        (Decimal("0.00"), Invoice.Status.PAID),
        (Decimal("79.95"),),
    ]
    assert sorted(a.amount for a in payment.allocations.all()) == [
        Decimal("99.95"),
        Decimal("120.10"),
        Decimal("200.00"),
    ]


def test_pay_all_outstanding_pays_the_oldest_due_invoices_first():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    newest = InvoiceFactory(customer=parent, due_on=date(2026, 4, 30), issued_on=date(2026, 3, 31))
    oldest = InvoiceFactory(customer=branch, due_on=date(2026, 2, 28), issued_on=date(2026, 1, 29))
    middle = InvoiceFactory(customer=parent, due_on=date(2026, 3, 31), issued_on=date(2026, 3, 1))
    payment = PaymentFactory(customer=parent, amount=Decimal("250.00"))

    made = allocate_oldest_first(payment=payment)

    assert [(a.invoice_id, a.amount) for a in made] == [
        (newest.pk, Decimal("50.00")),
        (oldest.pk, Decimal("100.00")),
        (middle.pk, Decimal("100.00")),
    ]
    assert _state(oldest, middle, newest, payment) == [
        (Decimal("0.00"), Invoice.Status.PAID),
        (Decimal("0.00"), Invoice.Status.PAID),
        (Decimal("50.00"), Invoice.Status.PARTIALLY_PAID),
        (Decimal("0.00"),),
    ]


def test_pay_all_outstanding_skips_branches_closed_to_the_parent_and_keeps_the_excess():
    parent = CustomerFactory()
    closed = InvoiceFactory(customer=CustomerFactory(parent=parent, allow_parent_access=False))
    own = InvoiceFactory(customer=parent, total=Decimal("30.00"))
    payment = PaymentFactory(customer=parent, amount=Decimal("100.00"))

    allocate_oldest_first(payment=payment)

    assert _state(own, closed, payment) == [
        (Decimal("0.00"), Invoice.Status.PAID),
        (Decimal("100.00"), Invoice.Status.SENT),
        (Decimal("70.00"),),
    ]


def test_a_payment_to_a_grandchild_needs_every_link_open_to_the_parent():
    top = CustomerFactory()
    middle = CustomerFactory(parent=top, allow_parent_access=False)
    grandchild_invoice = InvoiceFactory(customer=CustomerFactory(parent=middle, allow_parent_access=True))

    with pytest.raises(ValidationError) as refused:
        allocate_payment(
            payment=PaymentFactory(customer=top), allocations={grandchild_invoice.pk: Decimal("1.00")}
        )

    assert refused.value.code == "not_payable"


# --- Bad input: each refused with its code and a message naming the figures; nothing written. ---


def _refused(payment, allocations):
    with pytest.raises(ValidationError) as refused:
        allocate_payment(payment=payment, allocations=allocations)
    return refused.value


def _nothing_written(payment, *invoices):
    assert not Allocation.objects.exists()
    assert Payment.objects.get(pk=payment.pk).unallocated == payment.amount
    for invoice in invoices:
        assert Invoice.objects.get(pk=invoice.pk).balance_due == invoice.balance_due


def test_allocating_beyond_the_invoice_balance_is_refused():
    invoice = InvoiceFactory(total=Decimal("50.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("80.00"))

    error = _refused(payment, {invoice.pk: Decimal("50.01")})

    assert error.code == "exceeds_invoice"
    assert error.messages == [
        f"Invoice {invoice.number} has only 50.00 USD left to pay; 50.01 was requested."
    ]
    _nothing_written(payment, invoice)


def test_allocating_more_than_the_payment_has_left_is_refused():
    first, second = InvoiceFactory.create_batch(2, customer=CustomerFactory())
    payment = PaymentFactory(customer=first.customer, amount=Decimal("120.00"))

    error = _refused(payment, {first.pk: Decimal("100.00"), second.pk: Decimal("20.01")})

    assert error.code == "exceeds_payment"
    assert "120.00 USD left to apply; 120.01 was requested" in error.messages[0]
    _nothing_written(payment, first, second)


def test_allocating_to_a_branch_closed_to_the_parent_is_refused():
    parent = CustomerFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(parent=parent, allow_parent_access=False))
    payment = PaymentFactory(customer=parent)

    error = _refused(payment, {invoice.pk: Decimal("10.00")})

    assert error.code == "not_payable"
    _nothing_written(payment, invoice)


@pytest.mark.parametrize("relation", ["stranger", "sibling", "parent of the payer"])
def test_allocating_to_a_customer_that_is_not_the_payer_or_below_it_is_refused(relation):
    parent = CustomerFactory()
    payer = CustomerFactory(parent=parent)
    owner = {
        "stranger": CustomerFactory(),
        "sibling": CustomerFactory(parent=parent),
        "parent of the payer": parent,
    }[relation]
    invoice = InvoiceFactory(customer=owner)
    payment = PaymentFactory(customer=payer)

    error = _refused(payment, {invoice.pk: Decimal("10.00")})

    assert error.code == "not_payable"
    _nothing_written(payment, invoice)


def test_allocating_to_an_invoice_in_another_currency_is_refused():
    customer = CustomerFactory(currency="USD")
    invoice = InvoiceFactory(customer=customer, currency="EUR")
    payment = PaymentFactory(customer=customer)

    error = _refused(payment, {invoice.pk: Decimal("10.00")})

    assert error.code == "currency_mismatch"
    assert "EUR" in error.messages[0] and "USD" in error.messages[0]
    _nothing_written(payment, invoice)


@pytest.mark.parametrize("amount", [Decimal("-5.00"), Decimal("0.00"), Decimal("0.001"), Decimal("NaN")])
def test_allocating_a_negative_zero_or_fractional_cent_amount_is_refused(amount):
    invoice = InvoiceFactory()
    payment = PaymentFactory(customer=invoice.customer)

    error = _refused(payment, {invoice.pk: amount})

    assert error.code == "bad_amount"
    _nothing_written(payment, invoice)


@pytest.mark.parametrize("trait", ["voided", "draft"])
def test_paying_a_void_or_draft_invoice_is_refused(trait):
    invoice = InvoiceFactory(**{trait: True})
    payment = PaymentFactory(customer=invoice.customer)

    error = _refused(payment, {invoice.pk: Decimal("10.00")})

    assert error.code == "invoice_not_open"
    _nothing_written(payment, invoice)


def test_one_bad_allocation_refuses_the_whole_payment_and_leaves_no_payment_or_number_behind():
    good = InvoiceFactory(total=Decimal("40.00"))
    bad = InvoiceFactory(customer=good.customer, total=Decimal("10.00"))

    with pytest.raises(ValidationError) as refused:
        record_payment(
            customer=good.customer,
            amount=Decimal("60.00"),
            paid_on=MARCH_5,
            method="cash",
            allocations={good.pk: Decimal("40.00"), bad.pk: Decimal("20.00")},
        )

    assert refused.value.code == "exceeds_invoice"
    assert not Payment.objects.exists() and not Allocation.objects.exists()
    assert Invoice.objects.get(pk=good.pk).balance_due == Decimal("40.00")
    assert not DocumentSequence.objects.filter(kind=DocumentSequence.Kind.PAYMENT, next_number__gt=1).exists()


def test_a_pending_payment_cannot_be_allocated():
    invoice = InvoiceFactory()
    payment = PaymentFactory(customer=invoice.customer, status=Payment.Status.PENDING)

    error = _refused(payment, {invoice.pk: Decimal("10.00")})

    assert error.code == "payment_not_succeeded"
    _nothing_written(payment, invoice)


def test_recording_a_payment_of_zero_is_refused():
    with pytest.raises(ValidationError) as refused:
        record_payment(customer=CustomerFactory(), amount=Decimal("0.00"), paid_on=MARCH_5, method="cash")

    assert refused.value.code == "bad_amount"
    assert not Payment.objects.exists()
