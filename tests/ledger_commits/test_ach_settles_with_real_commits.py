"""The bug that started the kept-figures rework: a sandbox ACH debit that settles, with real commits.

`settle_sandbox_payment` runs in a ledger action and delivers the gateway's events in an on-commit
callback, so the payment is recorded by a second ledger action that starts while Django is still
leaving the first one's atomic block. Inside pytest-django's wrapped test transaction that callback
runs only after everything has finished, which is why no earlier test saw the kept figures go stale.
"""

from decimal import Decimal

import pytest

from billing.gateways.sandbox import SandboxGateway
from billing.models import AccountBalance, CheckoutAttempt, Invoice, Payment
from billing.selectors.ledger_check import ledger_problems
from billing.services.online_payments import confirm_checkout, settle_sandbox_payment, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_ach_debit_that_settles_leaves_the_kept_figures_true(settings, head_office):
    settings.PAYMENT_GATEWAY = "sandbox"
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.ACH,
        started_by=head_office["contact"].user,
        gateway=gateway,
    )
    attempt = confirm_checkout(
        attempt=attempt, payment_method_id=gateway.create_payment_method(scenario="ach_settles"), gateway=gateway
    )
    assert attempt.status == CheckoutAttempt.Status.PROCESSING

    settle_sandbox_payment(attempt=attempt, succeed=True)

    assert Invoice.objects.get(pk=head_office["east_invoice"].pk).status == Invoice.Status.PAID
    assert AccountBalance.objects.get(customer=head_office["east"]).outstanding_invoices == Decimal("0.00")
    assert ledger_problems() == []
