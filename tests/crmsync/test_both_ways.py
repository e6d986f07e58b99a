"""Both ways: CRM fetched first, then Business customers pushed to Accounts, Individuals to Contacts."""

import datetime as dt

from django.db.models import F

from billing.models import Customer
from crmsync.models import CrmConnection, CrmLink, SyncFailure, SyncRun
from crmsync.services import sync_crm
from tests.factories import CustomerFactory, active_crm_id


def test_billing_customers_are_pushed_after_the_fetch(fake, make_connection, db):
    fake.add_account("From CRM")
    CustomerFactory(display_name="From Billing", email="ap@billing.example", phone="+1 555 0101")
    CustomerFactory(display_name="Pat Person", customer_type=Customer.Type.INDIVIDUAL, email="pat@example.com")
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS, direction=CrmConnection.Direction.BOTH)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.added, run.pushed_added) == (1, 2)
    methods = [(m, p) for m, p, _q in fake.requests]
    assert methods.index(("GET", "/crm/v8/Accounts")) < methods.index(("POST", "/crm/v8/Accounts/upsert"))
    pushed = Customer.objects.get(display_name="From Billing")
    crm = fake.records["Accounts"][active_crm_id(pushed)]
    assert (crm["Account_Name"], crm["Email"], crm["Phone"]) == (
        "From Billing",
        "ap@billing.example",
        "+1 555 0101",
    )
    pat = Customer.objects.get(display_name="Pat Person")
    assert fake.records["Contacts"][active_crm_id(pat, "Contacts")]["Last_Name"] == "Person"

    second = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert (second.pushed_added, second.pushed_updated, second.added, second.updated) == (0, 0, 0, 0)


def test_pushes_go_in_batches_of_100_and_record_each_failure(fake, make_connection, db):
    for i in range(150):
        CustomerFactory(display_name=f"Billing {i:03d}")
    CustomerFactory(display_name="Broken", email="")
    Customer.objects.filter(display_name="Broken").update(email="broken-at-example")
    make_connection(direction=CrmConnection.Direction.BOTH)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    upserts = [q for m, p, q in fake.requests if p.endswith("/upsert")]
    assert len(upserts) == 2
    assert (run.pushed_added, run.failed) == (150, 1)
    failure = run.failures.get()
    assert failure.direction == SyncFailure.Direction.PUSH
    assert failure.record_name == "Broken" and "INVALID_DATA" in failure.reason


def test_an_edit_in_billing_is_pushed_as_an_update(fake, make_connection):
    crm = fake.add_account("Acme")
    make_connection(direction=CrmConnection.Direction.BOTH)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    # Five minutes later, in billing: the CRM record has not changed since.
    fake.records["Accounts"][crm["id"]]["Modified_Time"] = "2000-01-01T00:00:00+00:00"
    CrmLink.objects.update(synced_at=F("synced_at") - dt.timedelta(minutes=5))
    acme = Customer.objects.get()
    acme.phone = "+1 555 0123"
    acme.save()

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert (run.pushed_updated, run.updated) == (1, 0)
    assert fake.records["Accounts"][crm["id"]]["Phone"] == "+1 555 0123"
    assert Customer.objects.get().phone == "+1 555 0123"
