"""Receivables in the CRM: linked accounts' figures written to Account fields, changed ones only."""

import datetime as dt
import math
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from crmsync.models import CrmConnection, ReceivablesPush, SyncFailure, SyncRun
from crmsync.services import sync_crm
from crmsync.services.receivables import account_receivables
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, StaffUserFactory, linked_customer


def _puts(fake):
    return [q for m, p, q in fake.requests if m == "PUT" and p == "/crm/v8/Accounts"]


def test_the_four_figures_of_an_account(db):
    customer = CustomerFactory()
    today = timezone.localdate()
    InvoiceFactory(customer=customer, total=Decimal("100.00"))
    InvoiceFactory(
        customer=customer,
        total=Decimal("40.00"),
        issued_on=today - dt.timedelta(days=40),
        due_on=today - dt.timedelta(days=10),
    )
    InvoiceFactory(customer=customer, total=Decimal("70.00"), voided=True)
    InvoiceFactory(customer=customer, total=Decimal("25.00"), draft=True)
    InvoiceFactory(
        customer=customer,
        total=Decimal("9.00"),
        issued_on=dt.date(today.year - 1, 12, 1),
        due_on=dt.date(today.year - 1, 12, 31),
        status="paid",
        balance_due=Decimal("0.00"),
    )
    CreditNoteFactory(customer=customer, total=Decimal("15.00"))

    [row] = account_receivables(customer_ids=[customer.pk], today=today)

    assert row.outstanding_receivables == Decimal("140.00")
    assert row.overdue_amount == Decimal("40.00")
    assert row.unused_credits == Decimal("15.00")
    # Last year's invoice, the void one and the draft are not sales of this year.
    overdue_this_year = (today - dt.timedelta(days=40)).year == today.year
    assert row.sales_this_year == Decimal("100.00") + (Decimal("40.00") if overdue_this_year else 0)


def test_linked_accounts_get_their_figures_in_the_crm(fake, make_connection):
    crm = fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.BOTH)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    acme = linked_customer(crm["id"])
    InvoiceFactory(customer=acme, total=Decimal("120.50"))
    CreditNoteFactory(customer=acme, total=Decimal("20.00"))

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    record = fake.records["Accounts"][crm["id"]]
    assert record["Outstanding_Receivables"] == 120.5
    assert record["Overdue_Amount"] == 0
    assert record["Unused_Credits"] == 20
    assert record["Sales_This_Year"] == 120.5
    assert run.receivables_pushed == 1


def test_receivables_go_100_per_call_and_an_unchanged_push_sends_nothing(fake, make_connection):
    for i in range(250):
        fake.add_account(f"Account {i:03d}")
    make_connection(direction=CrmConnection.Direction.BOTH)
    first = sync_crm(trigger=SyncRun.Trigger.INITIAL)
    assert first.receivables_pushed == 250
    assert len(_puts(fake)) == math.ceil(250 / 100)
    assert all(r["Outstanding_Receivables"] == 0 for r in fake.records["Accounts"].values())

    fake.reset_log()
    second = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert second.receivables_pushed == 0
    assert _puts(fake) == []


def test_only_accounts_whose_figures_changed_are_pushed_again(fake, make_connection):
    crms = [fake.add_account(f"Account {i}") for i in range(3)]
    make_connection(direction=CrmConnection.Direction.BOTH)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    changed = linked_customer(crms[1]["id"])
    InvoiceFactory(customer=changed, total=Decimal("10.00"))
    fake.reset_log()

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.receivables_pushed == 1
    assert len(_puts(fake)) == 1
    assert fake.records["Accounts"][crms[1]["id"]]["Outstanding_Receivables"] == 10
    assert fake.records["Accounts"][crms[0]["id"]]["Outstanding_Receivables"] == 0
    assert ReceivablesPush.objects.get(customer=changed).figures["Outstanding_Receivables"] == "10.00"


def test_an_account_the_crm_refuses_is_in_the_history_and_retried(fake, make_connection):
    crm = fake.add_account("Gone soon")
    make_connection(direction=CrmConnection.Direction.BOTH)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    customer = linked_customer(crm["id"])
    InvoiceFactory(customer=customer, total=Decimal("10.00"))
    # Gone from the CRM without a deletion record yet: the update is refused for that record.
    with fake.lock:
        fake.records["Accounts"].pop(crm["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    failure = run.failures.get(direction=SyncFailure.Direction.PUSH)
    assert failure.customer_id == customer.pk and "INVALID_DATA" in failure.reason
    assert ReceivablesPush.objects.get(customer=customer).figures["Outstanding_Receivables"] == "0.00"


def test_fetch_only_connections_push_no_receivables(fake, make_connection):
    fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.FETCH)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.receivables_pushed == 0
    assert _puts(fake) == []


def test_missing_account_fields_are_created_before_the_first_push(fake, make_connection):
    fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.BOTH)

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    created = [(api, label, kind) for api, label, kind, _custom in fake.created_fields["Accounts"]]
    assert created == [
        ("Outstanding_Receivables", "Outstanding Receivables", "currency"),
        ("Overdue_Amount", "Overdue Amount", "currency"),
        ("Unused_Credits", "Unused Credits", "currency"),
        ("Sales_This_Year", "Sales This Year", "currency"),
    ]
    fake.reset_log()
    sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert not [p for _m, p, _q in fake.requests if p.startswith("/crm/v8/settings/fields")]


def test_fields_that_cannot_be_created_are_a_note_in_the_history_and_nothing_is_pushed(fake, make_connection):
    fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.BOTH)
    fake.fail_next(5, status=400, path_contains="settings/fields")

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    note = run.failures.get(record_name="Account fields")
    assert "Outstanding_Receivables" in note.reason and "ZohoCRM.settings.fields.ALL" in note.reason
    assert "account receivables are pushed once it exists" in note.reason
    assert run.receivables_pushed == 0 and _puts(fake) == []
    assert not ReceivablesPush.objects.exists()


def test_staff_can_name_existing_fields_instead(fake, make_connection):
    fake.add_field("Accounts", "Open_Balance", "Open Balance", "currency")
    crm = fake.add_account("Acme")
    make_connection(
        direction=CrmConnection.Direction.BOTH, receivable_field_mapping={"outstanding_receivables": "Open_Balance"}
    )

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert fake.records["Accounts"][crm["id"]]["Open_Balance"] == 0
    assert "Outstanding_Receivables" not in [api for api, *_rest in fake.created_fields["Accounts"]]


def test_the_history_entry_shows_the_receivables_pushed(client, fake, make_connection):
    fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.BOTH)
    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)
    client.force_login(StaffUserFactory())

    page = client.get(reverse("admin:crmsync_syncrun_change", args=[run.pk])).content.decode()

    assert "ccount receivables pushed to CRM" in page
