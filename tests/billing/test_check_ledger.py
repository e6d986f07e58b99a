from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Allocation, AllocationReversal, CreditApplication, Invoice, Payment, RetainerApplication
from billing.services import (
    LineInput,
    allocate_payment,
    apply_credit_note,
    apply_retainer,
    create_invoice,
    record_payment,
    refund_payment,
    send_invoice,
)
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


class _Sink:
    def write(self, text):
        self.text = getattr(self, "text", "") + text

    def flush(self):
        pass


def test_check_ledger_passes_on_a_ledger_written_by_the_services(capsys):
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    invoice = InvoiceFactory(customer=branch, total=Decimal("80.00"), issued_on=date(2026, 3, 1))
    record_payment(
        customer=parent,
        amount=Decimal("100.00"),
        paid_on=date(2026, 3, 1),
        method="cash",
        allocations={invoice.pk: Decimal("80.00")},
    )

    call_command("check_ledger")

    assert "Ledger consistent" in capsys.readouterr().out


@pytest.mark.ledger_left_broken
def test_check_ledger_reports_a_balance_that_drifted_and_exits_non_zero():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    payment = PaymentFactory(customer=invoice.customer, amount=Decimal("60.00"))
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("60.00")})
    Invoice.objects.filter(pk=invoice.pk).update(balance_due=Decimal("50.00"))
    err = _Sink()

    with pytest.raises(CommandError):
        call_command("check_ledger", stderr=err)

    assert f"Invoice {invoice.number}: balance_due 50.00, recomputed 40.00" in err.text


@pytest.mark.ledger_left_broken
def test_check_ledger_reports_parent_money_on_a_branch_closed_to_the_parent():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    invoice = InvoiceFactory(customer=branch)
    payment = PaymentFactory(customer=parent)
    allocate_payment(payment=payment, allocations={invoice.pk: Decimal("10.00")})
    branch.allow_parent_access = False
    branch.save()
    err = _Sink()

    with pytest.raises(CommandError):
        call_command("check_ledger", stderr=err)

    assert f"Payment {payment.number} was applied to {invoice.number} of a customer not open" in err.text


@pytest.mark.ledger_left_broken
def test_check_ledger_reports_unallocated_that_does_not_match_the_allocations():
    payment = PaymentFactory(amount=Decimal("100.00"))
    Payment.objects.filter(pk=payment.pk).update(unallocated=Decimal("99.99"))

    with pytest.raises(CommandError):
        call_command("check_ledger", stderr=_Sink())


def _every_kind_of_application(parent, branch):
    """The parent's payment, credit note and retainer applied to the branch's invoices, and part of the
    payment refunded back off the invoice (a reversal)."""
    retainer = send_invoice(
        invoice=create_invoice(
            customer=parent,
            is_retainer=True,
            issued_on=date(2026, 2, 1),
            lines=[LineInput(description="Advance", rate=Decimal("30.00"))],
        )
    )
    record_payment(
        customer=parent,
        amount=Decimal("30.00"),
        paid_on=date(2026, 2, 2),
        method="cash",
        allocations={retainer.pk: Decimal("30.00")},
    )
    invoice = InvoiceFactory(customer=branch, total=Decimal("100.00"), issued_on=date(2026, 2, 1))
    payment = record_payment(
        customer=parent,
        amount=Decimal("40.00"),
        paid_on=date(2026, 2, 3),
        method="cash",
        allocations={invoice.pk: Decimal("40.00")},
    )
    apply_credit_note(credit_note=CreditNoteFactory(customer=parent), applications={invoice.pk: Decimal("20.00")})
    retainer.refresh_from_db()
    apply_retainer(retainer=retainer, applications={invoice.pk: Decimal("30.00")})
    refund_payment(payment=payment, amount=Decimal("15.00"))
    return payment


def test_the_services_keep_both_customers_on_every_application_and_reversal():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    own = InvoiceFactory(customer=parent, total=Decimal("10.00"), issued_on=date(2026, 2, 1))
    record_payment(
        customer=parent,
        amount=Decimal("10.00"),
        paid_on=date(2026, 2, 1),
        method="cash",
        allocations={own.pk: own.total},
    )

    _every_kind_of_application(parent, branch)

    kept = {
        model.__name__: sorted(model.objects.values_list("payer_customer_id", "invoice_customer_id"))
        for model in (Allocation, CreditApplication, RetainerApplication, AllocationReversal)
    }
    assert kept == {
        "Allocation": sorted([(parent.pk, parent.pk), (parent.pk, parent.pk), (parent.pk, branch.pk)]),
        "CreditApplication": [(parent.pk, branch.pk)],
        "RetainerApplication": [(parent.pk, branch.pk)],
        "AllocationReversal": [(parent.pk, branch.pk)],
    }


@pytest.mark.ledger_left_broken
def test_check_ledger_reports_application_rows_whose_kept_customers_are_not_their_documents():
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    payment = _every_kind_of_application(parent, branch)
    stranger = CustomerFactory()
    transfer = Allocation.objects.get(payment=payment)
    Allocation.objects.filter(pk=transfer.pk).update(payer_customer=branch)
    CreditApplication.objects.update(invoice_customer=stranger)
    RetainerApplication.objects.update(payer_customer=stranger)
    AllocationReversal.objects.update(invoice_customer=parent)
    err = _Sink()

    with pytest.raises(CommandError):
        call_command("check_ledger", stderr=err)

    note = CreditApplication.objects.get()
    retainer = RetainerApplication.objects.get()
    reversal = AllocationReversal.objects.get()
    for line in (
        f"Payment {payment.number} applied to {transfer.invoice.number} (row {transfer.pk}): "
        f"kept customers {branch.pk} → {branch.pk}, its documents' {parent.pk} → {branch.pk}",
        f"Credit note {note.credit_note.number} applied to {note.invoice.number} (row {note.pk}): "
        f"kept customers {parent.pk} → {stranger.pk}, its documents' {parent.pk} → {branch.pk}",
        f"Retainer {retainer.retainer.number} applied to {retainer.invoice.number} (row {retainer.pk}): "
        f"kept customers {stranger.pk} → {branch.pk}, its documents' {parent.pk} → {branch.pk}",
        f"Reversed payment {payment.number} applied to {transfer.invoice.number} (row {reversal.pk}): "
        f"kept customers {parent.pk} → {parent.pk}, its documents' {parent.pk} → {branch.pk}",
    ):
        assert line in err.text
