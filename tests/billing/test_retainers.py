from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Customer, Invoice, RetainerApplication
from billing.selectors import balance_summary
from billing.services import (
    LineInput,
    apply_retainer,
    create_invoice,
    record_payment,
    refund_retainer,
    send_invoice,
)
from tests.factories import CustomerFactory, InvoiceFactory, RetainerInvoiceFactory

pytestmark = pytest.mark.django_db


def _paid_retainer(customer, amount):
    retainer = send_invoice(
        invoice=create_invoice(
            customer=customer,
            is_retainer=True,
            issued_on=date(2026, 2, 1),
            lines=[LineInput(description="Advance for the network rollout", rate=amount)],
        )
    )
    record_payment(
        customer=customer,
        amount=amount,
        paid_on=date(2026, 2, 3),
        method="bank_transfer",
        allocations={retainer.pk: amount},
    )
    retainer.refresh_from_db()
    return retainer


def test_a_paid_retainer_becomes_available_retainer_payments():
    customer = CustomerFactory()

    retainer = _paid_retainer(customer, Decimal("500.00"))

    row = balance_summary(customers=Customer.objects.filter(pk=customer.pk)).rows[0]
    assert (retainer.status, retainer.balance_due, retainer.retainer_unused) == (
        Invoice.Status.PAID,
        Decimal("0.00"),
        Decimal("500.00"),
    )
    assert row.available_retainer_payments == Decimal("500.00")


def test_a_retainer_is_applied_to_an_invoice_then_the_remainder_is_refunded():
    customer = CustomerFactory()
    retainer = _paid_retainer(customer, Decimal("500.00"))
    invoice = InvoiceFactory(customer=customer, total=Decimal("320.45"))

    apply_retainer(retainer=retainer, applications={invoice.pk: Decimal("320.45")})
    refund = refund_retainer(retainer=retainer, amount=Decimal("179.55"), reference="Wire 5531")

    retainer.refresh_from_db()
    invoice.refresh_from_db()
    assert (invoice.balance_due, invoice.status) == (Decimal("0.00"), Invoice.Status.PAID)
    assert retainer.retainer_unused == Decimal("0.00")
    assert (refund.amount, refund.retainer) == (Decimal("179.55"), retainer)


def test_applying_more_than_the_unused_retainer_is_refused_and_nothing_is_written():
    customer = CustomerFactory()
    retainer = _paid_retainer(customer, Decimal("100.00"))
    invoice = InvoiceFactory(customer=customer, total=Decimal("150.00"))

    with pytest.raises(ValidationError) as refused:
        apply_retainer(retainer=retainer, applications={invoice.pk: Decimal("100.01")})

    assert refused.value.code == "exceeds_retainer"
    assert not RetainerApplication.objects.exists()
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("150.00")


def test_an_unpaid_retainer_has_nothing_to_apply_or_refund():
    retainer = RetainerInvoiceFactory(total=Decimal("100.00"))
    invoice = InvoiceFactory(customer=retainer.customer)

    with pytest.raises(ValidationError) as applying:
        apply_retainer(retainer=retainer, applications={invoice.pk: Decimal("10.00")})
    with pytest.raises(ValidationError) as refunding:
        refund_retainer(retainer=retainer, amount=Decimal("10.00"))

    assert (applying.value.code, refunding.value.code) == ("exceeds_retainer", "exceeds_retainer")


def test_a_retainer_goes_only_to_regular_invoices():
    customer = CustomerFactory()
    retainer = _paid_retainer(customer, Decimal("100.00"))
    other_retainer = RetainerInvoiceFactory(customer=customer)

    with pytest.raises(ValidationError) as refused:
        apply_retainer(retainer=retainer, applications={other_retainer.pk: Decimal("10.00")})

    assert refused.value.code == "retainer_invoice"


def test_a_retainer_invoice_asks_for_the_agreed_advance_without_the_customers_discount():
    customer = CustomerFactory(discount_percent=Decimal("5.00"))

    retainer = create_invoice(
        customer=customer, is_retainer=True, lines=[LineInput(description="Advance", rate=Decimal("1500.00"))]
    )

    assert (retainer.number, retainer.total) == ("RET-00001", Decimal("1500.00"))
