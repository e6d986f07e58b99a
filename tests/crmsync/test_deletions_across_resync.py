"""Nothing deleted in the CRM stays linked: not after an Edit that forces a full re-sync, not when a
record vanishes without a deleted-feed entry, and never because a full run stopped midway."""

import datetime as dt
from dataclasses import replace

from billing.models import ContactPerson, Customer
from billing.models.ledger import Invoice
from crmsync.mapping import ACCOUNTS, DEFAULT_MAPPING
from crmsync.models import CrmConnection, CrmLink, SyncFailure, SyncRun
from crmsync.selectors import crm_fields
from crmsync.services import configure_sync, sync_crm
from crmsync.services.fetch import SeenIds
from crmsync.zoho import ZohoClient
from tests.factories import CrmLinkFactory, CustomerFactory, UserFactory, active_crm_id, link_of, linked_customer


def _invoice(customer):
    return Invoice.objects.create(
        customer=customer,
        number=f"INV-{customer.pk:05d}",
        currency="USD",
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1),
    )


def _edit(*, drop_pair=("Website", "website"), account_view=None, **changes):
    """Save the set-up through the service the admin's Edit form uses, changing the mapping so
    the module cursors are reset (the next run is a full one)."""
    connection = CrmConnection.current()
    mapping = {m: [list(p) for p in pairs] for m, pairs in (connection.field_mapping or DEFAULT_MAPPING).items()}
    mapping[ACCOUNTS] = [p for p in mapping[ACCOUNTS] if tuple(p) != drop_pair]
    options = dict(
        module=connection.module,
        include_orphan_contacts=connection.include_orphan_contacts,
        direction=connection.direction,
        duplicate_policy=connection.duplicate_policy,
        account_view=account_view,
        contact_view=None,
        field_mapping=mapping,
        crm_fields=crm_fields(connection=connection),
        sync_now=False,
    )
    options.update(changes)
    configure_sync(**options)
    return CrmConnection.current()


def _vanish(fake, module, record_id):
    """Gone from the CRM without a deleted-records entry (purged past Zoho's retention)."""
    with fake.lock:
        fake.records[module].pop(record_id)


def test_deletions_made_before_an_edit_are_not_lost(fake, make_connection):
    kept = fake.add_account("Kept Co")
    gone = [fake.add_account(f"Gone {i}") for i in range(2)]
    fake.add_account("Stays Co")
    make_connection()
    first = sync_crm(trigger=SyncRun.Trigger.INITIAL)
    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    _invoice(linked_customer(kept["id"]))
    cursor = CrmConnection.current().deletions_synced_until
    assert cursor == first.started_at
    for record in (kept, *gone):
        fake.delete_record("Accounts", record["id"])

    connection = _edit()
    assert connection.accounts_synced_until is None  # Edit makes the next run a full one…
    assert connection.deletions_synced_until == cursor  # …but keeps the deletions cursor
    fake.reset_log()

    full = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert full.status == SyncRun.Status.SUCCEEDED, full.message
    assert not full.is_incremental
    assert any(path.endswith("/Accounts/deleted") for _m, path, _q in fake.requests)
    assert (full.deleted, full.unlinked) == (2, 1)
    customer = Customer.objects.get(display_name="Kept Co")
    link = link_of(customer)
    assert link.unlinked_at is not None and active_crm_id(customer) is None
    assert link.unlinked_reason.startswith("Deleted in Zoho CRM on ")
    assert "transactions" in link.unlinked_reason
    note = full.failures.get()
    assert (note.direction, note.crm_id, note.customer_id, note.reason) == (
        SyncFailure.Direction.DELETE,
        kept["id"],
        customer.pk,
        link.unlinked_reason,
    )
    assert sorted(Customer.objects.values_list("display_name", flat=True)) == ["Kept Co", "Stays Co"]
    assert CrmConnection.current().deletions_synced_until == full.started_at

    incremental = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert incremental.status == SyncRun.Status.SUCCEEDED and incremental.is_incremental
    assert (incremental.deleted, incremental.unlinked, incremental.failed) == (0, 0, 0)
    assert active_crm_id(Customer.objects.get(display_name="Kept Co")) is None
    assert active_crm_id(Customer.objects.get(display_name="Stays Co")) is not None


def test_an_incremental_run_reads_deletions_since_its_own_cursor(fake, make_connection):
    doomed = fake.add_account("Doomed Co")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    fake.delete_record("Accounts", doomed["id"])
    # The module cursor is recent, as after a run that did not read the feed; the deletions
    # cursor alone says where the feed was last read.
    CrmConnection.objects.filter(pk=1).update(accounts_synced_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.is_incremental and run.deleted == 1
    assert not Customer.objects.exists()


def test_links_made_before_the_deletions_cursor_existed_read_the_whole_feed(fake, make_connection):
    doomed = fake.add_account("Doomed Co")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    fake.delete_record("Accounts", doomed["id"])
    CrmConnection.objects.filter(pk=1).update(deletions_synced_until=None)
    fake.reset_log()

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.is_incremental and run.deleted == 1
    assert not Customer.objects.exists()


def test_a_full_run_unlinks_records_that_vanished_without_a_feed_entry(fake, make_connection):
    billed = fake.add_account("Billed Co")
    idle = fake.add_account("Idle Co")
    fake.add_account("Stays Co")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    _invoice(linked_customer(billed["id"]))
    _vanish(fake, "Accounts", billed["id"])
    _vanish(fake, "Accounts", idle["id"])

    incremental = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
    assert (incremental.deleted, incremental.unlinked) == (0, 0)  # an incremental run cannot tell

    _edit()
    full = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert full.status == SyncRun.Status.SUCCEEDED, full.message
    assert (full.deleted, full.unlinked) == (1, 1)
    assert sorted(Customer.objects.values_list("display_name", flat=True)) == ["Billed Co", "Stays Co"]
    customer = Customer.objects.get(display_name="Billed Co")
    link = link_of(customer)
    assert active_crm_id(customer) is None
    assert link.unlinked_reason.startswith("Not found in Zoho CRM on ")
    assert "transactions" in link.unlinked_reason
    note = full.failures.get()
    assert (note.direction, note.crm_id, note.customer_id) == (SyncFailure.Direction.DELETE, billed["id"], customer.pk)
    assert note.reason == link.unlinked_reason


def test_a_full_run_that_fails_midway_unlinks_nothing(fake, make_connection):
    accounts = [fake.add_account(f"Co {i:03d}") for i in range(500)]
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    for record in accounts[-3:]:  # on page 3
        _vanish(fake, "Accounts", record["id"])
    _edit()
    fake.malform_page("Accounts", 2)

    failed = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert failed.status == SyncRun.Status.FAILED
    assert (failed.deleted, failed.unlinked) == (0, 0)
    assert CrmLink.objects.active().of_customers("Accounts").count() == 500

    fake.malformed.clear()
    again = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert again.status == SyncRun.Status.SUCCEEDED, again.message
    assert not again.is_incremental and again.deleted == 3
    assert Customer.objects.count() == 497


def test_a_full_run_that_fails_in_a_later_module_unlinks_nothing_there(fake, make_connection):
    acme = fake.add_account("Acme")
    people = [fake.add_contact(f"P{i}", "Doe", account=acme) for i in range(3)]
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    _vanish(fake, "Contacts", people[0]["id"])
    _edit()
    fake.fail_next(10_000, status=500, path_contains="/Contacts")

    failed = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert failed.status == SyncRun.Status.FAILED
    assert CrmLink.objects.active().of_contact_persons().count() == 3
    assert active_crm_id(Customer.objects.get()) == acme["id"]


def test_a_full_run_removes_vanished_contact_persons_and_unlinks_portal_logins(fake, make_connection):
    acme = fake.add_account("Acme")
    plain = fake.add_contact("Plain", "Person", account=acme)
    portal = fake.add_contact("Portal", "Person", account=acme, Email="portal@acme.example")
    fake.add_contact("Stays", "Person", account=acme)
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    ContactPerson.objects.filter(pk=CrmLink.objects.get(crm_id=portal["id"]).contact_person_id).update(
        user=UserFactory(email="portal@acme.example")
    )
    _vanish(fake, "Contacts", plain["id"])
    _vanish(fake, "Contacts", portal["id"])
    _edit()

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (1, 1)
    people = {p.first_name: active_crm_id(p, "Contacts") for p in ContactPerson.objects.all()}
    assert people.keys() == {"Portal", "Stays"}
    assert people["Portal"] is None and people["Stays"] is not None
    note = run.failures.get()
    assert note.crm_id == portal["id"] and "portal login" in note.reason
    assert link_of(ContactPerson.objects.get(first_name="Portal"), "Contacts").unlinked_reason == note.reason


def test_a_full_run_of_a_view_unlinks_records_that_left_it_but_deletes_none(fake, make_connection):
    view_id = fake.add_view("Accounts", "Enterprise accounts", criteria={"Industry": "Enterprise"})
    left = fake.add_account("Left Co", Industry="Enterprise")
    fake.add_account("Stays Co", Industry="Enterprise")
    fake.add_account("Small Co", Industry="SMB")
    make_connection(account_view_id=view_id, account_view_name="Enterprise accounts")
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    assert Customer.objects.count() == 2
    fake.update_record("Accounts", left["id"], Industry="SMB")
    _edit(account_view={"id": view_id, "name": "Enterprise accounts"})

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (0, 1)  # it still exists in the CRM: never deleted
    customer = Customer.objects.get(display_name="Left Co")
    assert active_crm_id(customer) is None
    assert "Enterprise accounts" in link_of(customer).unlinked_reason
    assert run.failures.get().reason == link_of(customer).unlinked_reason
    assert active_crm_id(Customer.objects.get(display_name="Stays Co")) is not None


def test_a_record_linked_after_the_run_started_is_not_swept(fake, make_connection):
    fake.add_account("Listed Co")
    make_connection()
    _edit()
    # As a staff import racing the run would leave it: linked after the listing began.
    late = CrmLinkFactory(
        customer=CustomerFactory(display_name="Imported Co"),
        crm_id="999",
        synced_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    ).customer

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.deleted, run.unlinked) == (0, 0)
    assert active_crm_id(late) == "999"


def test_a_deletion_during_a_full_listing_does_not_unlink_the_record_it_shifted_off_a_page(
    fake, make_connection, monkeypatch
):
    # Paged by number, not by page_token (as a server that gives no token): a deletion shifts pages.
    page_of = ZohoClient._page
    monkeypatch.setattr(ZohoClient, "_page", staticmethod(lambda body: replace(page_of(body), next_page_token=None)))
    accounts = [fake.add_account(f"Co {i:03d}") for i in range(450)]
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    _edit()

    def delete_from_page_one_before_page_two(method, path, query):
        if path.endswith("/Accounts") and query.get("page") == "2" and accounts[0]["id"] in fake.records["Accounts"]:
            fake.delete_record("Accounts", accounts[0]["id"])  # page 2 now starts one record later

    fake.hooks.append(delete_from_page_one_before_page_two)
    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.records_seen == 449  # accounts[0] read before it went; accounts[200] shifted off page 2…
    assert (run.deleted, run.unlinked) == (1, 0)  # …which is looked up and kept
    assert linked_customer(accounts[200]["id"])
    assert Customer.objects.count() == 449


def test_seen_ids_hold_numeric_and_other_ids_exactly():
    seen = SeenIds()
    seen.add([{"id": "4150868000000000003"}, {"id": 17}, {"id": "abc-1"}, {"id": "0042"}])
    seen.add([{"id": "9999999999999999999"}])
    assert "4150868000000000003" in seen and "17" in seen and "9999999999999999999" in seen
    assert "abc-1" in seen and "0042" in seen
    assert "42" not in seen and "4150868000000000004" not in seen and "abc" not in seen
