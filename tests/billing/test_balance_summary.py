from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Customer, Invoice
from billing.selectors import (
    balance_summary,
    customer_outstanding,
    customers_under,
    last_payment,
    outstanding_invoices,
)
from billing.services import allocate_payment, apply_credit_note, record_payment
from tests.factories import (
    CreditNoteFactory,
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
    RetainerInvoiceFactory,
)

pytestmark = pytest.mark.django_db


def _pay(customer, amount, allocations):
    return record_payment(
        customer=customer, amount=amount, paid_on=timezone.localdate(), method="cash", allocations=allocations
    )


def _branches(parent, count):
    return CustomerFactory.create_batch(count, parent=parent, allow_parent_access=True)


def test_balance_summary_gives_the_five_figures_per_customer_and_a_consolidated_total():
    parent = CustomerFactory(display_name="Northwind Networks")
    branch = CustomerFactory(display_name="Northwind Boston", parent=parent)
    part_paid = InvoiceFactory(customer=parent, total=Decimal("300.00"))
    _pay(parent, Decimal("179.50"), {part_paid.pk: Decimal("179.50")})
    InvoiceFactory(customer=branch, total=Decimal("80.25"))
    InvoiceFactory(customer=branch, total=Decimal("999.00"), status=Invoice.Status.DRAFT)
    note = CreditNoteFactory(customer=parent, total=Decimal("40.00"))
    apply_credit_note(
        credit_note=note, applications={InvoiceFactory(customer=parent, total=Decimal("25.00")).pk: Decimal("25.00")}
    )
    _pay(branch, Decimal("50.00"), {InvoiceFactory(customer=branch, total=Decimal("40.00")).pk: Decimal("40.00")})
    RetainerInvoiceFactory(customer=branch, total=Decimal("200.00"))
    retainer = RetainerInvoiceFactory(customer=parent, total=Decimal("60.00"))
    _pay(parent, Decimal("60.00"), {retainer.pk: Decimal("60.00")})

    summary = balance_summary(customers=customers_under(customer_id=parent.pk))

    boston, northwind = summary.rows
    assert (boston.display_name, northwind.display_name) == ("Northwind Boston", "Northwind Networks")
    assert boston.outstanding_invoices == Decimal("80.25")
    assert boston.available_credits == Decimal("10.00")
    assert boston.outstanding_retainers == Decimal("200.00")
    assert boston.available_retainer_payments == Decimal("0.00")
    assert boston.balance_payable == Decimal("70.25")
    assert northwind.outstanding_invoices == Decimal("120.50")
    assert northwind.available_credits == Decimal("15.00")
    assert northwind.available_retainer_payments == Decimal("60.00")
    assert northwind.balance_payable == Decimal("45.50")
    assert summary.total.customer_id is None
    assert summary.total.currency == "USD"
    assert summary.total.outstanding_invoices == Decimal("200.75")
    assert summary.total.available_credits == Decimal("25.00")
    assert summary.total.balance_payable == Decimal("115.75")


def test_balance_payable_never_goes_below_zero():
    customer = CustomerFactory()
    InvoiceFactory(customer=customer, total=Decimal("10.00"))
    PaymentFactory(customer=customer, amount=Decimal("25.00"))

    row = balance_summary(customers=Customer.objects.filter(pk=customer.pk)).rows[0]

    assert row.available_credits == Decimal("25.00")
    assert row.balance_payable == Decimal("0.00")


def test_a_customer_with_nothing_gets_a_row_of_zeros():
    customer = CustomerFactory()

    summary = balance_summary(customers=Customer.objects.filter(pk=customer.pk))

    assert len(summary.rows) == 1
    assert summary.rows[0].outstanding_invoices == Decimal("0.00")
    assert summary.total.balance_payable == Decimal("0.00")


def test_a_branch_closed_to_the_parent_is_not_in_the_parents_summary():
    parent = CustomerFactory()
    InvoiceFactory(customer=CustomerFactory(parent=parent, allow_parent_access=False), total=Decimal("70.00"))
    InvoiceFactory(customer=CustomerFactory(parent=parent, allow_parent_access=True), total=Decimal("30.00"))

    summary = balance_summary(customers=customers_under(customer_id=parent.pk))

    assert len(summary.rows) == 2
    assert summary.total.outstanding_invoices == Decimal("30.00")


@pytest.mark.parametrize("branches", [1, 50])
def test_balance_summary_is_one_query_however_many_branches(branches, django_assert_num_queries):
    parent = CustomerFactory()
    for branch in _branches(parent, branches):
        InvoiceFactory.create_batch(2, customer=branch, total=Decimal("12.50"))
        PaymentFactory(customer=branch, amount=Decimal("1.00"))

    with django_assert_num_queries(1):
        summary = balance_summary(customers=customers_under(customer_id=parent.pk))

    assert summary.total.outstanding_invoices == Decimal("25.00") * branches
    assert summary.total.available_credits == Decimal("1.00") * branches


def test_customer_outstanding_is_one_query_and_gives_zero_for_customers_that_owe_nothing(
    django_assert_num_queries,
):
    owing, clear = CustomerFactory(), CustomerFactory()
    InvoiceFactory(customer=owing, total=Decimal("33.33"))
    InvoiceFactory(customer=owing, total=Decimal("0.67"))
    RetainerInvoiceFactory(customer=owing, total=Decimal("500.00"))

    with django_assert_num_queries(1):
        figures = customer_outstanding(customer_ids=[owing.pk, clear.pk])

    assert figures == {owing.pk: Decimal("34.00"), clear.pk: Decimal("0.00")}


def test_outstanding_invoices_are_open_regular_invoices_oldest_due_first():
    customer = CustomerFactory()
    later = InvoiceFactory(customer=customer, issued_on=date(2026, 3, 1), due_on=date(2026, 4, 30))
    sooner = InvoiceFactory(customer=customer, issued_on=date(2026, 3, 5), due_on=date(2026, 3, 20))
    paid = InvoiceFactory(customer=customer)
    _pay(customer, paid.total, {paid.pk: paid.total})
    InvoiceFactory(customer=customer, voided=True)
    RetainerInvoiceFactory(customer=customer)

    rows = list(outstanding_invoices(customers=Customer.objects.filter(pk=customer.pk)))

    assert rows == [sooner, later]


def test_last_payment_brings_its_invoices_without_more_queries(django_assert_num_queries):
    customer = CustomerFactory()
    old = PaymentFactory(customer=customer, reference="old")
    new = PaymentFactory(customer=customer, paid_on=old.paid_on, reference="CHQ 1001")
    invoice = InvoiceFactory(customer=customer)
    allocate_payment(payment=new, allocations={invoice.pk: Decimal("40.00")})

    with django_assert_num_queries(2):
        payment = last_payment(customers=Customer.objects.filter(pk=customer.pk))
        applied = [(a.invoice.number, a.amount) for a in payment.allocations.all()]

    assert payment == new
    assert applied == [(invoice.number, Decimal("40.00"))]


@pytest.mark.parametrize("branches", [1, 50])
def test_outstanding_invoices_and_last_payment_cost_the_same_queries_for_one_or_fifty_branches(
    branches, django_assert_num_queries
):
    parent = CustomerFactory()
    for branch in _branches(parent, branches):
        invoice = InvoiceFactory(customer=branch, total=Decimal("30.00"))
        InvoiceFactory(customer=branch, total=Decimal("12.50"))
        _pay(parent, Decimal("10.00"), {invoice.pk: Decimal("10.00")})
    customers = customers_under(customer_id=parent.pk)

    with django_assert_num_queries(3):
        rows = [(i.number, i.customer.display_name, i.balance_due) for i in outstanding_invoices(customers=customers)]
        payment = last_payment(customers=customers)
        applied = [(a.invoice.number, a.amount) for a in payment.allocations.all()]

    assert len(rows) == 2 * branches
    assert sum(balance for _n, _c, balance in rows) == Decimal("32.50") * branches
    assert [amount for _n, amount in applied] == [Decimal("10.00")]
