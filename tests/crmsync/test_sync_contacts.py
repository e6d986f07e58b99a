"""Module choices: Contacts as Individuals; Accounts and their Contacts as contact persons."""

from billing.models import ContactPerson, Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm
from tests.factories import active_crm_id

Module = CrmConnection.Module


def test_contacts_become_individual_customers(fake, make_connection):
    fake.add_contact("Ada", "Lovelace", Email="ada@example.com", Mailing_City="London")
    make_connection(module=Module.CONTACTS)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.added == 1, run.message
    ada = Customer.objects.get()
    assert (ada.display_name, ada.customer_type, ada.email, ada.billing_address) == (
        "Ada Lovelace",
        Customer.Type.INDIVIDUAL,
        "ada@example.com",
        "London",
    )
    assert active_crm_id(ada, "Contacts") and active_crm_id(ada, "Accounts") is None


def test_accounts_and_their_contacts_become_customers_with_contact_persons(fake, make_connection):
    acme = fake.add_account("Acme")
    fake.add_contact("Wile", "Coyote", account=acme, Email="wile@acme.example", Title="CEO")
    fake.add_contact("Road", "Runner", account=acme, Email="road@acme.example")
    fake.add_contact("Lone", "Ranger", Email="lone@example.com")  # no account
    make_connection(module=Module.ACCOUNTS_AND_CONTACTS, include_orphan_contacts=False)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    customer = Customer.objects.get()
    people = list(customer.contacts.order_by("pk"))
    assert [(p.full_name, p.designation, p.is_primary) for p in people] == [
        ("Wile Coyote", "CEO", True),
        ("Road Runner", "", False),
    ]
    assert run.added == 3  # one customer, two contact persons


def test_orphan_contacts_become_individuals_when_asked(fake, make_connection):
    acme = fake.add_account("Acme")
    fake.add_contact("Wile", "Coyote", account=acme)
    fake.add_contact("Lone", "Ranger", Email="lone@example.com")
    make_connection(module=Module.ACCOUNTS_AND_CONTACTS, include_orphan_contacts=True)

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    individual = Customer.objects.get(customer_type=Customer.Type.INDIVIDUAL)
    assert individual.display_name == "Lone Ranger"
    assert ContactPerson.objects.count() == 1


def test_the_contact_view_limits_the_contacts_of_synced_accounts(fake, make_connection):
    acme = fake.add_account("Acme")
    fake.add_contact("Wile", "Coyote", account=acme, Title="CEO")
    fake.add_contact("Road", "Runner", account=acme, Title="Clerk")
    view_id = fake.add_view("Contacts", "CEOs", criteria={"Title": "CEO"})
    make_connection(module=Module.ACCOUNTS_AND_CONTACTS, contact_view_id=view_id)

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert list(ContactPerson.objects.values_list("first_name", flat=True)) == ["Wile"]


def test_a_contact_edited_in_the_crm_updates_its_contact_person(fake, make_connection):
    acme = fake.add_account("Acme")
    wile = fake.add_contact("Wile", "Coyote", account=acme)
    make_connection(module=Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    fake.update_record("Contacts", wile["id"], Phone="+1 555 0199")

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.updated == 1
    assert ContactPerson.objects.get().phone == "+1 555 0199"


def test_a_contact_moved_to_another_account_follows_it_without_two_primaries(fake, make_connection):
    acme, globex = fake.add_account("Acme"), fake.add_account("Globex")
    wile = fake.add_contact("Wile", "Coyote", account=acme)
    fake.add_contact("Hank", "Scorpio", account=globex)
    make_connection(module=Module.ACCOUNTS_AND_CONTACTS)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    fake.update_record("Contacts", wile["id"], Account_Name={"name": "Globex", "id": globex["id"]})

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    globex_customer = Customer.objects.get(display_name="Globex")
    assert sorted(globex_customer.contacts.values_list("first_name", "is_primary")) == [("Hank", True), ("Wile", False)]
