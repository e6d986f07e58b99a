"""CRM deletions with real commits: the ledger's kept figures stay true whatever the sync removes."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import AccountBalance, Customer, Payment
from billing.selectors.ledger_check import ledger_problems
from billing.services import LineInput, create_invoice, record_payment, send_invoice
from crmsync.models import SyncRun
from crmsync.services import sync_crm
from tests.factories import linked_customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_crm_deletion_unlinks_a_customer_with_money_and_deletes_one_without(fake, make_connection):
    paying = fake.add_account("Pays Invoices")
    idle = fake.add_account("Never Billed")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    customer = linked_customer(paying["id"])
    invoice = send_invoice(invoice=create_invoice(customer=customer, lines=[LineInput(description="Audit",
                                                                                       rate=Decimal("300.00"))]))
    record_payment(customer=customer, amount=Decimal("120.00"), paid_on=dt.date.today(),
                   method=Payment.Method.CASH, allocations={invoice.pk: Decimal("120.00")})
    fake.delete_record("Accounts", paying["id"])
    fake.delete_record("Accounts", idle["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (1, 1)
    assert list(Customer.objects.values_list("display_name", flat=True)) == ["Pays Invoices"]
    assert AccountBalance.objects.get(customer=customer).outstanding_invoices == Decimal("180.00")
    assert ledger_problems() == []
