"""AccountBalance rows: kept by the ledger services in the same transaction, equal to the documents."""

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from billing.models import AccountBalance, Payment
from billing.selectors.accounts import account_figures, kept_figures
from billing.selectors.ledger_check import ledger_problems
from billing.services import allocate_payment, record_payment, refund_payment, void_invoice
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory


def _row(customer) -> AccountBalance:
    return AccountBalance.objects.get(customer=customer)


@pytest.mark.django_db
def test_a_parent_paying_a_branch_invoice_moves_the_figures_of_both_accounts_to_the_cent():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    invoice = InvoiceFactory(customer=branch, total=Decimal("250.10"))

    record_payment(customer=parent, amount=Decimal("300.00"), paid_on=timezone.localdate(),
                   method=Payment.Method.BANK_TRANSFER, allocations={invoice.pk: Decimal("200.05")})

    branch_row, parent_row = _row(branch), _row(parent)
    assert branch_row.outstanding_invoices == Decimal("50.05")
    assert branch_row.statement_balance == Decimal("50.05")  # 250.10 invoiced − 200.05 applied from the parent
    assert parent_row.available_credits == Decimal("99.95")  # 300.00 received − 200.05 applied
    assert parent_row.statement_balance == Decimal("-99.95")  # in credit
    assert ledger_problems() == []


@pytest.mark.django_db
def test_void_and_refund_recompute_the_rows_they_touch():
    customer = CustomerFactory()
    kept, voided = InvoiceFactory(customer=customer, total=Decimal("80.00")), InvoiceFactory(customer=customer)
    payment = PaymentFactory(customer=customer, amount=Decimal("80.00"))
    allocate_payment(payment=payment, allocations={kept.pk: Decimal("80.00")})
    void_invoice(invoice=voided)
    assert _row(customer).outstanding_invoices == Decimal("0.00")

    refund_payment(payment=payment, amount=Decimal("30.00"))

    assert _row(customer).outstanding_invoices == Decimal("30.00")  # the reversed part is owed again
    assert _row(customer).statement_balance == Decimal("30.00")
    assert ledger_problems() == []


@pytest.mark.django_db
def test_check_ledger_reports_a_row_that_disagrees_and_rebuild_repairs_it():
    customer = CustomerFactory()
    InvoiceFactory(customer=customer, total=Decimal("12.34"))
    AccountBalance.objects.filter(customer=customer).update(outstanding_invoices=Decimal("12.33"))

    assert ledger_problems() == [
        f"Account balance of customer {customer.pk}: outstanding_invoices 12.33, recomputed 12.34"
    ]
    call_command("rebuild_account_totals", stdout=open("/dev/null", "w"))
    assert ledger_problems() == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_payments_of_one_account_leave_its_row_equal_to_its_documents():
    """Each payment recomputes the account's row after locking it: the last one to commit sees the
    others' work. Without the lock, two recomputations from the same snapshot lose one payment."""
    customer = CustomerFactory()
    racers = 8
    invoices = [InvoiceFactory(customer=customer, total=Decimal("10.00")) for _ in range(racers)]
    payments = [PaymentFactory(customer=customer, amount=Decimal("10.00")) for _ in range(racers)]
    barrier = threading.Barrier(racers)
    errors = []

    def pay(payment, invoice):
        try:
            barrier.wait()
            allocate_payment(payment=payment, allocations={invoice.pk: Decimal("10.00")})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=pair) for pair in zip(payments, invoices, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert kept_figures(customer_ids=[customer.pk]) == account_figures(customer_ids=[customer.pk])
    assert _row(customer).outstanding_invoices == Decimal("0.00")
