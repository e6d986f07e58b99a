from datetime import date
from decimal import Decimal

import pytest

from billing.models import Customer
from billing.selectors import LineKind, balance_summary, customers_under, statement
from billing.services import (
    LineInput,
    allocate_payment,
    create_invoice,
    record_payment,
    refund_payment,
    send_invoice,
    void_invoice,
)
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
        allocate_payment(payment=payment, allocations={invoice.pk: Decimal("5.00")}, applied_on=date(2026, 3, 11))
        CreditNoteFactory(customer=branch, issued_on=date(2026, 3, 12), total=Decimal("1.00"))

    with django_assert_num_queries(17):
        result = statement(customers=customers_under(customer_id=parent.pk), **MARCH)

    assert result.opening_balance == Decimal("10.00") * branches
    assert result.closing_balance == Decimal("10.00") * branches + Decimal("4.00") * branches - Decimal(
        "1000.00"
    )
    assert len(result.sections) == branches + 1
    assert not any(line.kind == LineKind.TRANSFER_IN for line in result.lines)  # internal: they cancel


def _invoice(customer, on, amount):
    invoice = create_invoice(
        customer=customer, issued_on=on, lines=[LineInput(description="Support", rate=amount)]
    )
    return send_invoice(invoice=invoice)


def _pay(customer, on, amount, allocations=None):
    return record_payment(
        customer=customer,
        amount=amount,
        paid_on=on,
        method="cheque",
        reference="CHQ",
        allocations=allocations,
    )


def test_opening_and_closing_balances_take_documents_on_the_period_edges_into_the_period():
    customer = CustomerFactory()
    _invoice(customer, date(2026, 2, 10), Decimal("100.00"))
    _pay(customer, date(2026, 2, 28), Decimal("40.00"))
    first_day = _invoice(customer, date(2026, 3, 1), Decimal("50.00"))
    CreditNoteFactory(customer=customer, issued_on=date(2026, 3, 15), total=Decimal("20.00"))
    _pay(customer, date(2026, 3, 31), Decimal("30.00"))
    _invoice(customer, date(2026, 4, 1), Decimal("999.00"))

    result = statement(customers=_only(customer), **MARCH)

    assert result.opening_balance == Decimal("60.00")
    assert [(line.date, line.kind, line.debit, line.credit, line.balance) for line in result.lines] == [
        (date(2026, 3, 1), LineKind.INVOICE, Decimal("50.00"), Decimal("0.00"), Decimal("110.00")),
        (date(2026, 3, 15), LineKind.CREDIT_NOTE, Decimal("0.00"), Decimal("20.00"), Decimal("90.00")),
        (date(2026, 3, 31), LineKind.PAYMENT, Decimal("0.00"), Decimal("30.00"), Decimal("60.00")),
    ]
    assert result.lines[0].number == first_day.number
    assert (result.total_debits, result.total_credits, result.closing_balance) == (
        Decimal("50.00"),
        Decimal("50.00"),
        Decimal("60.00"),
    )
    assert not result.is_consolidated


def test_a_parent_statement_has_branch_subtotals_and_the_parents_payment_to_a_branch_cancels_out():
    parent = CustomerFactory(display_name="Northwind Networks")
    branch = CustomerFactory(display_name="Northwind Boston", parent=parent)
    invoice = _invoice(branch, date(2026, 3, 3), Decimal("80.00"))
    _pay(parent, date(2026, 3, 10), Decimal("100.00"), allocations={invoice.pk: Decimal("80.00")})

    result = statement(customers=customers_under(customer_id=parent.pk), **MARCH)

    boston, northwind = result.sections
    assert [(line.kind, line.debit, line.credit) for line in boston.lines] == [
        (LineKind.INVOICE, Decimal("80.00"), Decimal("0.00")),
        (LineKind.TRANSFER_IN, Decimal("0.00"), Decimal("80.00")),
    ]
    assert [(line.kind, line.debit, line.credit) for line in northwind.lines] == [
        (LineKind.PAYMENT, Decimal("0.00"), Decimal("100.00")),
        (LineKind.TRANSFER_OUT, Decimal("80.00"), Decimal("0.00")),
    ]
    assert (boston.closing_balance, northwind.closing_balance) == (Decimal("0.00"), Decimal("-20.00"))
    assert [line.kind for line in result.lines] == [LineKind.INVOICE, LineKind.PAYMENT]
    assert result.closing_balance == Decimal("-20.00")
    summary = balance_summary(customers=customers_under(customer_id=parent.pk))
    assert [row.outstanding_invoices - row.available_credits for row in summary.rows] == [
        boston.closing_balance,
        northwind.closing_balance,
    ]


def test_a_branch_alone_sees_the_parents_payment_as_a_credit_from_the_parent():
    parent = CustomerFactory(display_name="Northwind Networks")
    branch = CustomerFactory(parent=parent)
    invoice = _invoice(branch, date(2026, 2, 3), Decimal("80.00"))
    _pay(parent, date(2026, 3, 10), Decimal("80.00"), allocations={invoice.pk: Decimal("30.00")})

    result = statement(customers=_only(branch), **MARCH)

    (line,) = result.lines
    assert (line.kind, line.credit, line.balance) == (
        LineKind.TRANSFER_IN,
        Decimal("30.00"),
        Decimal("50.00"),
    )
    assert "from Northwind Networks" in line.description
    assert (result.opening_balance, result.closing_balance) == (Decimal("80.00"), Decimal("50.00"))


def test_a_refund_raises_the_balance_and_a_void_invoice_does_not_appear():
    customer = CustomerFactory()
    payment = _pay(customer, date(2026, 3, 2), Decimal("100.00"))
    void_invoice(invoice=_invoice(customer, date(2026, 3, 3), Decimal("70.00")))
    refund_payment(payment=payment, amount=Decimal("25.00"), refunded_on=date(2026, 3, 4))

    result = statement(customers=_only(customer), **MARCH)

    assert [(line.kind, line.balance) for line in result.lines] == [
        (LineKind.PAYMENT, Decimal("-100.00")),
        (LineKind.REFUND, Decimal("-75.00")),
    ]
