"""A payment dated before an invoice it pays is refused unless staff confirm the date."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Allocation, DocumentSequence, Invoice, Payment
from billing.services import allocate_oldest_first, allocate_payment, record_payment
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

MARCH_1, MARCH_31 = date(2026, 3, 1), date(2026, 3, 31)


def _record(invoice, paid_on, **kwargs):
    return record_payment(
        customer=invoice.customer,
        amount=Decimal("100.00"),
        paid_on=paid_on,
        method=Payment.Method.CHEQUE,
        allocations={invoice.pk: Decimal("100.00")},
        **kwargs,
    )


def test_a_payment_dated_before_the_invoice_it_pays_is_refused_and_nothing_is_written():
    invoice = InvoiceFactory(issued_on=MARCH_31)

    with pytest.raises(ValidationError) as refused:
        _record(invoice, MARCH_1)

    assert refused.value.code == "dated_before_invoice"
    assert refused.value.messages[0].startswith(
        f"Payment PAY-00001 is dated 1 Mar 2026, before invoice {invoice.number} was issued on 31 Mar 2026."
    )
    assert not Payment.objects.exists()
    assert not DocumentSequence.objects.filter(kind=DocumentSequence.Kind.PAYMENT, next_number__gt=1).exists()
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("100.00")


def test_staff_can_confirm_an_early_payment_date():
    invoice = InvoiceFactory(issued_on=MARCH_31)

    payment = _record(invoice, MARCH_1, confirm_early_date=True)

    assert payment.paid_on == MARCH_1
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID
    assert payment.allocations.get().applied_on == MARCH_1


def test_a_payment_dated_on_the_invoice_date_needs_no_confirmation():
    invoice = InvoiceFactory(issued_on=MARCH_31)

    _record(invoice, MARCH_31)

    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


def test_the_message_names_the_earliest_invoice_the_payment_is_dated_before():
    customer = CustomerFactory()
    old = InvoiceFactory(customer=customer, issued_on=date(2026, 2, 1), total=Decimal("40.00"))
    late = InvoiceFactory(customer=customer, issued_on=MARCH_31, total=Decimal("30.00"))
    later = InvoiceFactory(customer=customer, issued_on=date(2026, 4, 2), total=Decimal("30.00"))

    with pytest.raises(ValidationError) as refused:
        record_payment(
            customer=customer, amount=Decimal("100.00"), paid_on=MARCH_1, method=Payment.Method.CASH,
            allocations={old.pk: Decimal("40.00"), later.pk: Decimal("30.00"), late.pk: Decimal("30.00")},
        )

    assert f"before invoice {late.number} was issued on 31 Mar 2026" in refused.value.messages[0]


def test_an_early_payment_with_nothing_allocated_is_simply_credit():
    customer = CustomerFactory()
    InvoiceFactory(customer=customer, issued_on=MARCH_31)

    payment = record_payment(customer=customer, amount=Decimal("50.00"), paid_on=MARCH_1, method="cash")

    assert payment.unallocated == Decimal("50.00")


def test_an_older_payments_credit_still_pays_a_newer_invoice_today():
    invoice = InvoiceFactory(issued_on=MARCH_31)
    payment = PaymentFactory(customer=invoice.customer, paid_on=MARCH_1)

    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("100.00")})
    allocate_oldest_first(payment=PaymentFactory(customer=invoice.customer, paid_on=MARCH_1))

    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


def test_allocating_on_a_given_date_before_the_invoice_was_issued_needs_confirmation():
    invoice = InvoiceFactory(issued_on=MARCH_31)
    payment = PaymentFactory(customer=invoice.customer, paid_on=MARCH_1)

    with pytest.raises(ValidationError) as refused:
        allocate_payment(payment=payment, allocations={invoice.pk: Decimal("60.00")}, applied_on=date(2026, 3, 30))
    allocate_payment(
        payment=payment, allocations={invoice.pk: Decimal("60.00")}, applied_on=date(2026, 3, 30),
        confirm_early_date=True,
    )

    assert refused.value.code == "dated_before_invoice"
    assert "would be applied on 30 Mar 2026, before invoice" in refused.value.messages[0]
    assert Allocation.objects.get().applied_on == date(2026, 3, 30)


# The record-payment page ------------------------------------------------------------------------


def _post(staff, invoice, **extra):
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"
    form = {"amount": "100.00", "paid_on": "2026-03-01", "method": "cheque", f"alloc_{invoice.pk}": "100.00"}
    return staff.post(url, {**form, **extra})


def test_the_record_payment_page_asks_no_date_confirmation_up_front(staff):
    invoice = InvoiceFactory(issued_on=MARCH_31)

    page = staff.get(reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}").content.decode()

    assert "I confirm this date" not in page
    assert 'name="confirm_early_date"' not in page


def test_an_early_date_on_the_record_payment_page_shows_the_message_and_the_confirm_box(staff):
    invoice = InvoiceFactory(issued_on=MARCH_31)

    response = _post(staff, invoice)

    body = response.content.decode()
    assert response.status_code == 200
    assert f"is dated 1 Mar 2026, before invoice {invoice.number} was issued on 31 Mar 2026." in body
    assert 'name="confirm_early_date"' in body and "I confirm this date" in body
    assert not Payment.objects.exists()


def test_ticking_the_confirm_box_records_the_early_payment(staff):
    invoice = InvoiceFactory(issued_on=MARCH_31)

    response = _post(staff, invoice, confirm_early_date="on")

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert payment.paid_on == MARCH_1
    assert Invoice.objects.get(pk=invoice.pk).status == Invoice.Status.PAID


def test_apply_to_the_oldest_invoices_on_the_record_payment_page_is_dated_and_checked_like_the_rest(staff):
    invoice = InvoiceFactory(issued_on=MARCH_31)
    form = {"oldest_first": "on", f"alloc_{invoice.pk}": ""}

    refused = _post(staff, invoice, **form)
    confirmed = _post(staff, invoice, confirm_early_date="on", **form)

    assert "before invoice" in refused.content.decode()
    assert confirmed.status_code == 302
    assert Payment.objects.get().allocations.get().applied_on == MARCH_1
