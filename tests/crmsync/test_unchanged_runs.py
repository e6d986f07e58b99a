"""Runs over records that did not change write no billing row, however they were fetched."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import ContactPerson, Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm

MAPPING = {
    "Accounts": [
        ["Account_Name", "display_name"],
        ["Email", "email"],
        ["Website", "website"],
        ["Billing_Street", "billing_address"],
        ["Billing_City", "billing_address"],
        ["Payment_Terms", "payment_terms_days"],
        ["Customer_Tier", "custom:tier"],
    ],
    "Contacts": [["Full_Name", "display_name"], ["Email", "email"], ["Mailing_City", "billing_address"]],
}


def _billing_writes(queries) -> list[str]:
    """Writes to billing's rows and to the links (the run's own history rows do not count)."""
    return [
        q["sql"][:120]
        for q in queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
        and ('"billing_' in q["sql"].split("(")[0] or '"crmsync_crmlink"' in q["sql"].split("(")[0])
    ]


@pytest.fixture
def synced_once(fake, make_connection):
    """A CRM with accounts (a custom field, an address, unicode), their contacts and orphans, synced."""
    for i in range(30):
        account = fake.add_account(
            f"Société {i} Größe",
            Email=f"ap{i}@example.com",
            Website=f"c{i}.example",
            Billing_Street=f"{i} Rue",
            Billing_City="Zürich",
            Payment_Terms=30,
            Customer_Tier="Gold",
        )
        fake.add_contact("Frédéric", f"Müller{i}", account=account, Email=f"f{i}@example.com", Title="CEO")
        fake.add_contact("Zoë", f"Ng{i}", account=account)
    fake.add_contact("Orphan", "Person", Email="orphan@example.com", Mailing_City="Oslo")
    make_connection(
        module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS, include_orphan_contacts=True, field_mapping=MAPPING
    )
    first = sync_crm(trigger=SyncRun.Trigger.INITIAL)
    assert (first.added, first.failed) == (31 + 60, 0), first.message
    return first


def test_an_incremental_run_that_refetches_unchanged_records_writes_nothing(synced_once, settings):
    # The overlap margin (clock skew) makes Zoho send every record again.
    settings.CRM_MODIFIED_SINCE_MARGIN_SECONDS = 3600
    before = dict(Customer.objects.values_list("pk", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.is_incremental and run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.records_seen == 30 + 61
    assert (run.added, run.updated, run.deleted, run.skipped, run.failed) == (0, 0, 0, 0, 0)
    assert _billing_writes(queries.captured_queries) == []
    assert dict(Customer.objects.values_list("pk", "updated_at")) == before


def test_a_second_full_run_with_nothing_changed_writes_nothing(synced_once):
    CrmConnection.objects.filter(pk=1).update(accounts_synced_until=None, contacts_synced_until=None)
    people = list(ContactPerson.objects.values())

    with CaptureQueriesContext(connection) as queries:
        run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert not run.is_incremental and run.records_seen == 30 + 61
    assert (run.added, run.updated, run.deleted, run.failed) == (0, 0, 0, 0)
    assert _billing_writes(queries.captured_queries) == []
    assert list(ContactPerson.objects.values()) == people
