from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.models import Invoice, Payment
from billing.services import allocate_payment, record_payment
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


class _Sink:
    def write(self, text):
        self.text = getattr(self, "text", "") + text

    def flush(self):
        pass


def test_check_ledger_passes_on_a_ledger_written_by_the_services(capsys):
    parent = CustomerFactory()
    branch = CustomerFactory(parent=parent)
    invoice = InvoiceFactory(customer=branch, total=Decimal("80.00"))
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
