"""A record deleted in the CRM: its customer goes, unless it has transactions or branches."""

import datetime as dt

from billing.models import ContactPerson, Customer
from billing.models.ledger import Invoice
from crmsync.models import CrmConnection, CrmLink, SyncFailure, SyncRun
from crmsync.services import sync_crm
from tests.factories import CustomerFactory, UserFactory, active_crm_id, link_of, linked_customer


def _invoice(customer):
    return Invoice.objects.create(
        customer=customer,
        number=f"INV-{customer.pk:05d}",
        currency="USD",
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1),
    )


def test_a_crm_deletion_deletes_a_customer_without_transactions_and_unlinks_one_with(fake, make_connection):
    keep = fake.add_account("Has Invoices")
    gone = fake.add_account("No Invoices")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    _invoice(linked_customer(keep["id"]))
    fake.delete_record("Accounts", keep["id"])
    fake.delete_record("Accounts", gone["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (1, 1)
    kept = Customer.objects.get()
    assert kept.display_name == "Has Invoices"
    link = link_of(kept)
    assert link.unlinked_at is not None and link.crm_id == keep["id"]
    assert "Deleted in Zoho CRM" in link.unlinked_reason and "transactions" in link.unlinked_reason
    assert not CrmLink.objects.filter(crm_id=gone["id"]).exists()  # went with its customer
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
    CustomerFactory(parent=linked_customer(parent["id"]))
    fake.delete_record("Accounts", parent["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.unlinked == 1 and run.deleted == 0
    assert "branches" in link_of(Customer.objects.get(display_name="Parent Co")).unlinked_reason


def test_deleted_contacts_remove_contact_persons_but_keep_portal_logins(fake, make_connection):
    acme = fake.add_account("Acme")
    plain = fake.add_contact("Plain", "Person", account=acme)
    portal = fake.add_contact("Portal", "Person", account=acme, Email="portal@acme.example")
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    ContactPerson.objects.filter(pk=CrmLink.objects.get(crm_id=portal["id"]).contact_person_id).update(
        user=UserFactory(email="portal@acme.example")
    )
    fake.delete_record("Contacts", plain["id"])
    fake.delete_record("Contacts", portal["id"])

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert (run.deleted, run.unlinked) == (1, 1)
    survivor = ContactPerson.objects.get()
    assert survivor.first_name == "Portal" and active_crm_id(survivor, CrmLink.Module.CONTACTS) is None
    link = link_of(survivor, CrmLink.Module.CONTACTS)
    assert link.crm_id == portal["id"] and "portal login" in link.unlinked_reason
    assert run.failures.get().reason == link.unlinked_reason
