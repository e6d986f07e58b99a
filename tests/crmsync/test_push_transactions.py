"""Transactions in the CRM: invoices and sales orders upserted to Invoices / Sales_Orders by our id,
with their line items pointing at CRM Products."""

import math
from decimal import Decimal

from billing.models import Customer
from billing.models.ledger import Invoice, InvoiceLine, SalesOrder
from crmsync.models import CrmConnection, DocumentPush, ProductPush, SyncFailure, SyncRun
from crmsync.services import link_deal, sync_crm
from crmsync.services.documents import push_document
from tests.factories import (
    InvoiceFactory,
    InvoiceLineFactory,
    ItemFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
)


def _upserts(fake, module):
    return [p for m, p, _q in fake.requests if m == "POST" and p == f"/crm/v8/{module}/upsert"]


def _linked_account(fake, make_connection, **settings):
    crm = fake.add_account("Acme")
    make_connection(push_transactions=True, **settings)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)  # links Acme and creates the CRM fields the push needs
    return crm, Customer.objects.get(display_name="Acme")


def _invoice_with_lines(customer, **fields):
    """A sent invoice of two lines: 3 hours of an item at 120.00 with 10% off and 8% tax, and a free-text line."""
    item = ItemFactory(name="Managed support", sku="SUP-HR", rate=Decimal("120.00"))
    invoice = InvoiceFactory(
        customer=customer,
        line=None,
        subtotal=Decimal("374.00"),
        discount_total=Decimal("36.00"),
        tax_total=Decimal("25.92"),
        total=Decimal("399.92"),
        **fields,
    )
    InvoiceLineFactory(
        invoice=invoice,
        item=item,
        description="Support, March",
        quantity=Decimal("3"),
        rate=Decimal("120.00"),
        discount_percent=Decimal("10"),
        discount_amount=Decimal("36.00"),
        tax_percent=Decimal("8"),
        tax_amount=Decimal("25.92"),
        amount=Decimal("324.00"),
        position=1,
    )
    InvoiceLineFactory(
        invoice=invoice, description="Travel", rate=Decimal("50.00"), amount=Decimal("50.00"), position=2
    )
    return invoice, item


def test_a_sent_invoice_reaches_the_crm_with_its_account_deal_and_line_items(
    fake, make_connection, django_capture_on_commit_callbacks
):
    crm, acme = _linked_account(fake, make_connection)
    deal = fake.add_deal(crm, "Acme renewal", Stage="Negotiation")
    with django_capture_on_commit_callbacks(execute=True):
        invoice, item = _invoice_with_lines(acme)
    with django_capture_on_commit_callbacks(execute=True):
        link_deal(kind="invoice", document_id=invoice.pk, deal_id=deal["id"])

    [record] = fake.records["Invoices"].values()
    assert record["Billing_Document_Id"] == f"invoice-{invoice.pk}"
    assert record["Subject"] == invoice.number
    assert record["Account_Name"] == {"name": "Acme", "id": crm["id"]}
    assert record["Deal_Name"] == {"name": "Acme renewal", "id": deal["id"]}
    assert record["Status"] == "Sent"
    assert record["Invoice_Date"] == invoice.issued_on.isoformat()
    support, travel = record["Invoiced_Items"]
    products = {p["Billing_Item_Id"]: p for p in fake.records["Products"].values()}
    assert support["Product_Name"] == {"name": "Managed support", "id": products[f"item-{item.pk}"]["id"]}
    assert products[f"item-{item.pk}"]["Product_Code"] == "SUP-HR"
    assert (support["Quantity"], support["List_Price"], support["Discount"], support["Tax"]) == (
        3.0,
        120.0,
        36.0,
        25.92,
    )
    assert support["Description"] == "Support, March"
    assert travel["Product_Name"]["id"] == products["free-text"]["id"]  # a line without an item
    # Zoho computes the totals from the rows.
    assert record["Grand_Total"] == 399.92
    assert DocumentPush.objects.get(kind="invoice", document_id=invoice.pk).crm_id == record["id"]


def test_an_invoice_without_lines_is_one_row_of_its_total(fake, make_connection, django_capture_on_commit_callbacks):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = InvoiceFactory(customer=acme, line=None, total=Decimal("120.50"))

    [record] = fake.records["Invoices"].values()
    [row] = record["Invoiced_Items"]
    assert row["Quantity"] == 1.0 and row["List_Price"] == 120.5
    assert row["Description"] == f"Total of {invoice.number}"
    assert record["Grand_Total"] == 120.5 and record["Balance_Due"] == 120.5


def test_products_are_upserted_once_and_reused(fake, make_connection, django_capture_on_commit_callbacks):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        _invoice, item = _invoice_with_lines(acme)
    fake.reset_log()

    with django_capture_on_commit_callbacks(execute=True):
        second = InvoiceFactory(customer=acme, line=None)
        InvoiceLineFactory(invoice=second, item=item, description="Support, April")

    assert _upserts(fake, "Products") == []  # the cached CRM product serves the second invoice
    assert len(fake.records["Products"]) == ProductPush.objects.count() == 2

    item.name = "Managed network support"
    item.save()
    with django_capture_on_commit_callbacks(execute=True):
        third = InvoiceFactory(customer=acme, line=None)
        InvoiceLineFactory(invoice=third, item=item, description="Support, May")

    assert len(_upserts(fake, "Products")) == 1  # a changed item is upserted again, by our id
    assert len(fake.records["Products"]) == 2
    assert {p["Product_Name"] for p in fake.records["Products"].values()} >= {"Managed network support"}


def test_pushing_again_updates_the_same_record_and_keeps_one_set_of_rows(
    fake, make_connection, django_capture_on_commit_callbacks
):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice, _item = _invoice_with_lines(acme)
    [crm_id] = fake.records["Invoices"]

    with django_capture_on_commit_callbacks(execute=True):
        invoice.status, invoice.balance_due = Invoice.Status.PARTIALLY_PAID, Decimal("100.00")
        invoice.save()
    DocumentPush.objects.all().delete()  # as if our record of the push were lost: the upsert finds it by our id
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert list(fake.records["Invoices"]) == [crm_id]
    record = fake.records["Invoices"][crm_id]
    assert record["Status"] == "Partially paid" and record["Balance_Due"] == 100.0
    assert [r["Description"] for r in record["Invoiced_Items"]] == ["Support, March", "Travel"]
    assert record["Grand_Total"] == 399.92
    assert run.failed == 0


def test_changed_lines_replace_the_rows_in_the_crm(fake, make_connection, django_capture_on_commit_callbacks):
    _crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        invoice, _item = _invoice_with_lines(acme)
    InvoiceLine.objects.filter(invoice=invoice, description="Travel").update(
        description="Travel (2 days)", quantity=Decimal("2"), amount=Decimal("100.00")
    )

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    [record] = fake.records["Invoices"].values()
    assert run.documents_pushed == 1
    assert [(r["Description"], r["Quantity"]) for r in record["Invoiced_Items"]] == [
        ("Support, March", 3.0),
        ("Travel (2 days)", 2.0),
    ]
    assert record["Grand_Total"] == 449.92


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


def test_a_sales_order_reaches_sales_orders_with_its_rows(fake, make_connection, django_capture_on_commit_callbacks):
    crm, acme = _linked_account(fake, make_connection)
    with django_capture_on_commit_callbacks(execute=True):
        order = SalesOrderFactory(customer=acme, total=Decimal("100.00"))
        SalesOrderLineFactory(sales_order=order, description="Router", quantity=Decimal("2"), rate=Decimal("50.00"))

    [record] = fake.records["Sales_Orders"].values()
    assert record["Billing_Document_Id"] == f"salesorder-{order.pk}"
    assert record["Account_Name"]["id"] == crm["id"]
    assert record["Status"] == "Confirmed"
    [row] = record["Ordered_Items"]
    assert (row["Description"], row["Quantity"], row["List_Price"]) == ("Router", 2.0, 50.0)
    assert record["Grand_Total"] == 100.0
    assert fake.records["Invoices"] == {}

    with django_capture_on_commit_callbacks(execute=True):
        order.status = SalesOrder.Status.VOID
        order.save()
    [record] = fake.records["Sales_Orders"].values()
    assert record["Status"] == "Void" and len(record["Ordered_Items"]) == 1


def test_nothing_is_pushed_when_transactions_are_off_drafts_or_unlinked(
    fake, make_connection, django_capture_on_commit_callbacks
):
    fake.add_account("Acme")
    make_connection()  # push_transactions off by default
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    acme = Customer.objects.get(display_name="Acme")
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


def test_the_scheduled_run_catches_up_bulk_writes_100_per_call(fake, make_connection):
    _crm, acme = _linked_account(fake, make_connection)
    invoices = [InvoiceFactory(customer=acme) for _ in range(101)]  # no commit: no fast-path push
    fake.reset_log()
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert len(fake.records["Invoices"]) == 101
    assert len(_upserts(fake, "Invoices")) == 2
    assert len(_upserts(fake, "Products")) == 1  # the generic product, once

    Invoice.objects.filter(pk=invoices[0].pk).update(status=Invoice.Status.PAID, balance_due=Decimal("0.00"))
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.documents_pushed == 1
    paid = [r for r in fake.records["Invoices"].values() if r["Billing_Document_Id"] == f"invoice-{invoices[0].pk}"]
    assert [(r["Status"], r["Balance_Due"], len(r["Invoiced_Items"])) for r in paid] == [("Paid", 0.0, 1)]


def test_a_record_the_crm_refuses_fails_alone_with_its_reason_and_the_rest_of_the_page_applies(fake, make_connection):
    _crm, acme = _linked_account(fake, make_connection)
    good = InvoiceFactory(customer=acme)
    missing_product = InvoiceFactory(customer=acme, line=None)
    InvoiceLineFactory(invoice=missing_product, item=ItemFactory(name="Gone from the CRM"))
    duplicated = InvoiceFactory(customer=acme)
    # Two CRM records already carry one document's id: Zoho refuses that upsert as duplicate data.
    fake.add_record("Invoices", Subject="old", Billing_Document_Id=f"invoice-{duplicated.pk}")
    fake.add_record("Invoices", Subject="copy", Billing_Document_Id=f"invoice-{duplicated.pk}")
    # The CRM product of one item was deleted in Zoho after billing cached it.
    fake.hooks.append(
        lambda method, path, query: (
            [
                fake.records["Products"].pop(p["id"])
                for p in list(fake.records["Products"].values())
                if p["Product_Name"] == "Gone from the CRM"
            ]
            if path.endswith("/Invoices/upsert")
            else None
        )
    )

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.documents_pushed, run.failed) == (1, 2)
    reasons = dict(SyncFailure.objects.filter(run=run).values_list("record_name", "reason"))
    assert "INVALID_DATA" in reasons[missing_product.number] and "Product_Name" in reasons[missing_product.number]
    assert "DUPLICATE_DATA" in reasons[duplicated.number] and "Billing_Document_Id" in reasons[duplicated.number]
    assert set(DocumentPush.objects.values_list("document_id", flat=True)) == {good.pk}


def test_an_unknown_field_fails_the_record_with_its_name_and_the_next_run_retries_it(fake, make_connection):
    _crm, acme = _linked_account(fake, make_connection)
    InvoiceFactory(customer=acme)
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    # Someone deleted Balance_Due from Invoices in Zoho after billing created it and pushed an invoice.
    fake.created_fields["Invoices"] = [f for f in fake.created_fields["Invoices"] if f[0] != "Balance_Due"]
    invoice = InvoiceFactory(customer=acme)
    order = SalesOrderFactory(customer=acme, total=Decimal("80.00"))

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    [failure] = SyncFailure.objects.filter(run=run)
    assert failure.record_name == invoice.number and failure.module == "Invoices"
    assert "INVALID_DATA" in failure.reason and "(field Balance_Due)" in failure.reason
    assert [r["Subject"] for r in fake.records["Sales_Orders"].values()] == [order.number]  # the rest applied

    fake.add_field("Invoices", "Balance_Due", "Balance Due", "currency")
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert (run.documents_pushed, run.failed) == (1, 0)
    assert invoice.number in [r["Subject"] for r in fake.records["Invoices"].values()]


def test_pushing_n_documents_takes_at_most_n_over_100_plus_5_requests(fake, make_connection):
    _crm, acme = _linked_account(fake, make_connection)
    items = ItemFactory.create_batch(3)
    for n in range(250):
        invoice = InvoiceFactory(customer=acme, line=None)
        InvoiceLineFactory(invoice=invoice, item=items[n % 3])
    fake.reset_log()

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.documents_pushed == 250
    pushing = [p for _m, p, _q in fake.requests if "Invoices" in p or "Products" in p or "settings/fields" in p]
    assert len(pushing) <= math.ceil(250 / 100) + 5
