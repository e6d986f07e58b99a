"""The fast path with real commits: each change of an invoice, made by billing's services, reaches the
fake Zoho CRM through post_save / ledger_rows_written → on_commit → push_document_task."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Customer, Payment
from billing.services import LineInput, create_invoice, create_sales_order, record_payment, send_invoice, void_invoice
from crmsync.models import DocumentPush, SyncFailure, SyncRun
from crmsync.services import pause_sync, resume_sync, sync_crm
from crmsync.tasks import (
    PUSH_BACKOFF_MAX_SECONDS,
    PUSH_BACKOFF_SECONDS,
    PUSH_RETRIES,
    push_document_task,
    push_retry_delay,
)
from tests.factories import ItemFactory, StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def acme(fake, make_connection):
    fake.add_account("Acme")
    make_connection(push_transactions=True)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)  # links Acme and creates the CRM fields the push needs
    return Customer.objects.get(display_name="Acme")


@pytest.fixture
def eager_retries():
    """Celery runs an eager task's retries at once (no countdown), but only when eager errors do not
    propagate: with `task_eager_propagates` the first Retry would leave the on-commit callback."""
    conf = push_document_task.app.conf
    before, conf.task_eager_propagates = conf.task_eager_propagates, False
    yield
    conf.task_eager_propagates = before


def _draft(customer, rate="300.00"):
    item = ItemFactory(name=f"Network audit {rate}", rate=Decimal(rate))
    return create_invoice(
        customer=customer, lines=[LineInput(item=item), LineInput(description="Travel", rate=Decimal("40.00"))]
    )


def _crm_invoice(fake, invoice):
    [record] = [r for r in fake.records["Invoices"].values() if r["Billing_Document_Id"] == f"invoice-{invoice.pk}"]
    return record


def test_sent_partly_paid_paid_and_void_each_reach_the_crm_with_status_and_balance(fake, acme):
    invoice = _draft(acme)
    assert fake.records["Invoices"] == {}  # a draft stays in billing

    send_invoice(invoice=invoice)
    record = _crm_invoice(fake, invoice)
    assert (record["Status"], record["Balance_Due"], record["Grand_Total"]) == ("Sent", 340.0, 340.0)
    assert [row["Description"] for row in record["Invoiced_Items"]] == [invoice.lines.first().description, "Travel"]

    record_payment(
        customer=acme,
        amount=Decimal("100.00"),
        paid_on=dt.date.today(),
        method=Payment.Method.CASH,
        allocations={invoice.pk: Decimal("100.00")},
    )
    record = _crm_invoice(fake, invoice)
    assert (record["Status"], record["Balance_Due"]) == ("Partially paid", 240.0)

    record_payment(
        customer=acme,
        amount=Decimal("240.00"),
        paid_on=dt.date.today(),
        method=Payment.Method.CASH,
        allocations={invoice.pk: Decimal("240.00")},
    )
    record = _crm_invoice(fake, invoice)
    assert (record["Status"], record["Balance_Due"]) == ("Paid", 0.0)

    unpaid = send_invoice(invoice=_draft(acme, rate="80.00"))
    void_invoice(invoice=unpaid)
    record = _crm_invoice(fake, unpaid)
    assert (record["Status"], record["Balance_Due"]) == ("Void", 0.0)

    assert len(fake.records["Invoices"]) == 2  # every change updated the same two records
    assert len(_crm_invoice(fake, invoice)["Invoiced_Items"]) == 2


def test_a_confirmed_sales_order_reaches_sales_orders(fake, acme):
    order = create_sales_order(
        customer=acme, lines=[LineInput(description="Router", quantity=Decimal("2"), rate=Decimal("50.00"))]
    )

    [record] = fake.records["Sales_Orders"].values()
    assert (record["Subject"], record["Status"], record["Grand_Total"]) == (order.number, "Confirmed", 100.0)


def test_nothing_is_pushed_while_paused_and_the_first_run_after_resume_catches_up(fake, acme):
    pause_sync()
    invoice = send_invoice(invoice=_draft(acme))
    assert fake.records["Invoices"] == {}
    assert sync_crm(trigger=SyncRun.Trigger.SCHEDULED) is None  # the schedule is paused too

    resume_sync()
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.documents_pushed == 1
    assert _crm_invoice(fake, invoice)["Status"] == "Sent"


def test_a_refusal_on_the_fast_path_is_in_the_history_and_the_next_run_retries_it(fake, acme, client):
    invoice = _draft(acme)
    first = fake.add_record("Invoices", Subject="old", Billing_Document_Id=f"invoice-{invoice.pk}")
    second = fake.add_record("Invoices", Subject="copy", Billing_Document_Id=f"invoice-{invoice.pk}")

    send_invoice(invoice=invoice)

    [run] = SyncRun.objects.filter(trigger=SyncRun.Trigger.PUSH)
    assert run.push_day == dt.date.today() and run.failed == 1
    [failure] = run.failures.all()
    assert (failure.module, failure.record_name) == ("Invoices", invoice.number)
    assert "DUPLICATE_DATA" in failure.reason and "Billing_Document_Id" in failure.reason
    client.force_login(StaffUserFactory())
    history = client.get(reverse("admin:crmsync_syncrun_changelist")).content.decode()
    assert "Instant pushes of the day" in history
    assert invoice.number in client.get(reverse("admin:crmsync_syncrun_change", args=[run.pk])).content.decode()

    fake.delete_record("Invoices", second["id"])
    scheduled = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert (scheduled.documents_pushed, scheduled.failed) == (1, 0)
    assert fake.records["Invoices"][first["id"]]["Subject"] == invoice.number
    assert SyncRun.objects.filter(trigger=SyncRun.Trigger.PUSH).count() == 1  # one row a day, not one per push


def test_zoho_unreachable_is_retried_by_the_task_until_it_answers(fake, acme, eager_retries):
    # The client tries 4 times per task run (CRM_HTTP_RETRIES = 3 in tests): 6 failures need a task retry.
    fake.fail_next(6, status=503, path_contains="/Invoices/upsert")

    invoice = send_invoice(invoice=_draft(acme))

    assert _crm_invoice(fake, invoice)["Status"] == "Sent"
    assert len([p for _m, p, _q in fake.requests if p.endswith("/Invoices/upsert")]) == 7
    assert not SyncFailure.objects.exists()


def test_zoho_unreachable_through_every_retry_is_in_the_history_and_caught_up_next_run(fake, acme, eager_retries):
    fake.fail_next(1_000, status=503, path_contains="/Invoices/upsert")

    invoice = send_invoice(invoice=_draft(acme))

    attempts = len([p for _m, p, _q in fake.requests if p.endswith("/Invoices/upsert")])
    assert attempts == 4 * (PUSH_RETRIES + 1)
    [failure] = SyncFailure.objects.filter(run__trigger=SyncRun.Trigger.PUSH)
    assert failure.record_name == invoice.number
    assert "server error (HTTP 503)" in failure.reason and "gave up after 4 attempts" in failure.reason

    fake.faults.clear()
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.documents_pushed == 1
    assert DocumentPush.objects.filter(document_id=invoice.pk).exists()


def test_the_task_waits_longer_after_each_failure_up_to_ten_minutes():
    ceilings = [min(PUSH_BACKOFF_SECONDS * 2**n, PUSH_BACKOFF_MAX_SECONDS) for n in range(PUSH_RETRIES)]
    assert ceilings == [30, 60, 120, 240, 480, 600]
    for retries, ceiling in enumerate(ceilings):
        assert all(0 <= push_retry_delay(retries) <= ceiling for _ in range(20))
