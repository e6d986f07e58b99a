"""A record deleted in the CRM: its customer goes, unless it has transactions or branches."""

import datetime as dt

from billing.models import ContactPerson, Customer
from billing.models.ledger import Invoice
from crmsync.models import CrmConnection, SyncFailure, SyncRun
from crmsync.selectors import customers_with_transactions
from crmsync.services import sync_crm
from tests.factories import CustomerFactory, UserFactory


def _invoice(customer):
    return Invoice.objects.create(
        customer=customer,
        number=f"INV-{customer.pk:05d}",
        currency="USD",
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1),
    )


def test_has_transactions_is_generic_over_ledger_relations(db):
    with_invoice, plain = CustomerFactory(), CustomerFactory()
    _invoice(with_invoice)
    assert customers_with_transactions(customer_ids=[with_invoice.pk, plain.pk]) == {with_invoice.pk}


def test_a_crm_deletion_deletes_a_customer_without_transactions_and_unlinks_one_with(fake, make_connection):
    keep = fake.add_account("Has Invoices")
    gone = fake.add_account("No Invoices")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    _invoice(Customer.objects.get(crm_account_id=keep["id"]))
    fake.delete_record("Accounts", keep["id"])
    fake.delete_record("Accounts", gone["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (1, 1)
    kept = Customer.objects.get()
    assert kept.display_name == "Has Invoices"
    assert kept.crm_account_id is None
    assert "Deleted in Zoho CRM" in kept.crm_unlinked_reason and "transactions" in kept.crm_unlinked_reason
    note = run.failures.get()
    assert (note.direction, note.crm_id, note.customer_id) == (
        SyncFailure.Direction.DELETE,
        keep["id"],
        kept.pk,
    )


def test_a_parent_deleted_in_the_crm_keeps_its_branches(fake, make_connection):
    parent = fake.add_account("Parent Co")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    CustomerFactory(parent=Customer.objects.get(crm_account_id=parent["id"]))
    fake.delete_record("Accounts", parent["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.unlinked == 1 and run.deleted == 0
    assert "branches" in Customer.objects.get(display_name="Parent Co").crm_unlinked_reason


def test_deleted_contacts_remove_contact_persons_but_keep_portal_logins(fake, make_connection):
    acme = fake.add_account("Acme")
    plain = fake.add_contact("Plain", "Person", account=acme)
    portal = fake.add_contact("Portal", "Person", account=acme, Email="portal@acme.example")
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    ContactPerson.objects.filter(crm_contact_id=portal["id"]).update(user=UserFactory(email="portal@acme.example"))
    fake.delete_record("Contacts", plain["id"])
    fake.delete_record("Contacts", portal["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert (run.deleted, run.unlinked) == (1, 1)
    survivor = ContactPerson.objects.get()
    assert survivor.first_name == "Portal" and survivor.crm_contact_id is None
