"""The links live in crmsync's own table: the push reads them with its documents, not a query each."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Customer
from crmsync.clients import client_for
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm
from crmsync.services.documents import push_documents
from tests.factories import DealLinkFactory, InvoiceFactory


@pytest.fixture
def acme(fake, make_connection):
    account = fake.add_account("Acme")
    make_connection(push_transactions=True)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)  # links Acme, creates the CRM fields the push needs
    CrmConnection.objects.filter(pk=1).update(push_transactions=False)  # no instant pushes meanwhile
    return account, Customer.objects.get(display_name="Acme")


def _invoices_with_deals(fake, acme, numbers: range) -> None:
    account, customer = acme
    for i in numbers:
        deal = fake.add_deal(account, f"Deal {i}", Stage="Negotiation")
        DealLinkFactory(invoice=InvoiceFactory(customer=customer, total=Decimal("10.00")), crm_id=deal["id"])


def _push() -> tuple[int, int]:
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.INSTANT)
    with client_for(CrmConnection.current()) as client, CaptureQueriesContext(connection) as queries:
        pushed = push_documents(run=run, client=client)
    return pushed, len(queries.captured_queries)


def test_pushing_forty_documents_costs_the_queries_of_two(acme, fake):
    _invoices_with_deals(fake, acme, range(1))
    _push()  # the first push also checks the CRM's fields
    _invoices_with_deals(fake, acme, range(1, 3))
    two = _push()
    _invoices_with_deals(fake, acme, range(3, 43))

    forty = _push()

    assert (two[0], forty[0]) == (2, 40)
    assert forty[1] == two[1]
    deals = {record["Deal_Name"]["id"] for record in fake.records["Invoices"].values()}
    assert deals == set(fake.records["Deals"])
