"""Transactions in the CRM: invoices and sales orders upserted to Invoices / Sales_Orders by our id."""

from decimal import Decimal

from billing.models.ledger import Invoice, SalesOrder
from crmsync.models import CrmConnection, DocumentPush, SyncFailure, SyncRun
from crmsync.services import sync_crm
from crmsync.services.documents import push_document
from tests.factories import DealLinkFactory, InvoiceFactory, SalesOrderFactory, linked_customer


def _upserts(fake, module):
    return [p for m, p, _q in fake.requests if m == "POST" and p == f"/crm/v8/{module}/upsert"]


def _linked_account(fake, make_connection, **settings):
    crm = fake.add_account("Acme")
    make_connection(push_transactions=True, **settings)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    return crm, linked_customer(crm["id"])


def test_a_sent_invoice_reaches_the_crm_with_its_account_and_deal(
    fake, make_connection, django_capture_on_commit_callbacks
):
    crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = InvoiceFactory(customer=acme, total=Decimal("120.50"))
        DealLinkFactory(invoice=invoice, crm_id="777")

    [record] = fake.records["Invoices"].values()
    assert record["Billing_Document_Id"] == f"invoice-{invoice.pk}"
    assert record["Subject"] == invoice.number
    assert record["Account_Name"] == {"id": crm["id"]}
    assert record["Deal_Name"] == {"id": "777"}
    assert record["Status"] == "Sent"
    assert record["Grand_Total"] == 120.5
    assert record["Balance_Due"] == 120.5
    assert record["Invoice_Date"] == invoice.issued_on.isoformat()
    assert DocumentPush.objects.get(kind="invoice", document_id=invoice.pk).crm_id == record["id"]


def test_paying_then_voiding_updates_the_same_crm_record(fake, make_connection, django_capture_on_commit_callbacks):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = InvoiceFactory(customer=acme)
    [crm_id] = fake.records["Invoices"]

    with django_capture_on_commit_callbacks(execute=True):
        invoice.status, invoice.balance_due = Invoice.Status.PARTIALLY_PAID, Decimal("40.00")
        invoice.save()
    assert fake.records["Invoices"][crm_id]["Status"] == "Partially paid"
    assert fake.records["Invoices"][crm_id]["Balance_Due"] == 40.0

    with django_capture_on_commit_callbacks(execute=True):
        invoice.status, invoice.balance_due = Invoice.Status.PAID, Decimal("0.00")
        invoice.save()
    assert fake.records["Invoices"][crm_id]["Status"] == "Paid"

    with django_capture_on_commit_callbacks(execute=True):
        invoice.status = Invoice.Status.VOID
        invoice.save()
    assert list(fake.records["Invoices"]) == [crm_id]  # upserted, never a second record
    assert fake.records["Invoices"][crm_id]["Status"] == "Void"


def test_an_unchanged_document_sends_no_request(fake, make_connection, django_capture_on_commit_callbacks):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = InvoiceFactory(customer=acme)
    fake.reset_log()

    with django_capture_on_commit_callbacks(execute=True):
        invoice.reference = "PO-1"  # not part of the CRM record
        invoice.save()
    assert push_document("invoice", invoice.pk) == "unchanged"
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert _upserts(fake, "Invoices") == []


def test_a_sales_order_reaches_sales_orders(fake, make_connection, django_capture_on_commit_callbacks):
    crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        order = SalesOrderFactory(customer=acme, total=Decimal("75.00"))

    [record] = fake.records["Sales_Orders"].values()
    assert record["Billing_Document_Id"] == f"salesorder-{order.pk}"
    assert record["Account_Name"] == {"id": crm["id"]}
    assert record["Status"] == "Confirmed"
    assert record["Grand_Total"] == 75.0
    assert fake.records["Invoices"] == {}

    with django_capture_on_commit_callbacks(execute=True):
        order.status = SalesOrder.Status.VOID
        order.save()
    [record] = fake.records["Sales_Orders"].values()
    assert record["Status"] == "Void"


def test_nothing_is_pushed_when_transactions_are_off_drafts_or_unlinked(
    fake, make_connection, django_capture_on_commit_callbacks
):
    crm = fake.add_account("Acme")
    make_connection()  # push_transactions off by default
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    acme = linked_customer(crm["id"])
    with django_capture_on_commit_callbacks(execute=True):
        InvoiceFactory(customer=acme)
        SalesOrderFactory(customer=acme)
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert _upserts(fake, "Invoices") == _upserts(fake, "Sales_Orders") == []

    CrmConnection.objects.filter(pk=1).update(push_transactions=True)
    with django_capture_on_commit_callbacks(execute=True):
        InvoiceFactory(customer=acme, draft=True)
        InvoiceFactory()  # a customer not linked to the CRM
    assert _upserts(fake, "Invoices") == []


def test_the_scheduled_run_catches_up_bulk_writes(fake, make_connection):
    _crm, acme = _linked_account(fake, make_connection)
    invoices = [InvoiceFactory(customer=acme) for _ in range(3)]  # no commit: no fast-path push
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert len(fake.records["Invoices"]) == 3
    assert len(_upserts(fake, "Invoices")) == 1  # one call for the batch

    Invoice.objects.filter(pk=invoices[0].pk).update(status=Invoice.Status.PAID, balance_due=Decimal("0.00"))
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.documents_pushed == 1
    paid = [r for r in fake.records["Invoices"].values() if r["Billing_Document_Id"] == f"invoice-{invoices[0].pk}"]
    assert [r["Status"] for r in paid] == ["Paid"]


def test_a_refused_document_is_in_the_history_with_its_reason_and_retried_next_run(
    fake, make_connection, django_capture_on_commit_callbacks
):
    _crm, acme = _linked_account(fake, make_connection)
    invoice = InvoiceFactory(customer=acme)
    # Two CRM records already carry our id: Zoho refuses the upsert as duplicate data.
    first = fake.add_record("Invoices", Subject="old", Billing_Document_Id=f"invoice-{invoice.pk}")
    fake.add_record("Invoices", Subject="copy", Billing_Document_Id=f"invoice-{invoice.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        invoice.save()
    assert not DocumentPush.objects.exists()  # the fast path leaves it to the scheduled run
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.failed == 1
    [failure] = SyncFailure.objects.filter(run=run)
    assert failure.module == "Invoices"
    assert failure.record_name == invoice.number
    assert "DUPLICATE_DATA" in failure.reason and "Billing_Document_Id" in failure.reason

    fake.delete_record("Invoices", [i for i in fake.records["Invoices"] if i != first["id"]][0])
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.failed == 0 and run.documents_pushed == 1
    assert fake.records["Invoices"][first["id"]]["Subject"] == invoice.number
