"""Duplicate policy: CRM Account name vs customer display name."""

import pytest

from billing.models import Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm
from tests.factories import CustomerFactory, active_crm_id

Policy = CrmConnection.DuplicatePolicy


@pytest.fixture
def billing_acme(db):
    return CustomerFactory(display_name="Acme", phone="+1 000", notes="kept", email="old@acme.example")


def test_clone_keeps_both(fake, make_connection, billing_acme):
    fake.add_account("Acme", Phone="+1 555")
    make_connection(duplicate_policy=Policy.CLONE)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert (run.added, run.duplicates_cloned, run.updated, run.skipped) == (1, 1, 0, 0)
    assert Customer.objects.filter(display_name="Acme").count() == 2
    billing_acme.refresh_from_db()
    assert billing_acme.phone == "+1 000" and active_crm_id(billing_acme) is None


def test_overwrite_replaces_mapped_fields_only_and_links(fake, make_connection, billing_acme):
    crm_acme = fake.add_account("Acme", Phone="+1 555")
    make_connection(duplicate_policy=Policy.OVERWRITE)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert (run.added, run.updated, run.duplicates_overwritten) == (0, 1, 1)
    billing_acme.refresh_from_db()
    assert active_crm_id(billing_acme) == crm_acme["id"]
    assert billing_acme.phone == "+1 555"
    assert billing_acme.email == ""  # mapped (Email) and empty in the CRM: CRM wins
    assert billing_acme.notes == "kept"  # not mapped
    assert billing_acme.origin == Customer.Origin.BILLING


def test_skip_keeps_the_billing_record(fake, make_connection, billing_acme):
    fake.add_account("Acme", Phone="+1 555")
    fake.add_account("Other")
    make_connection(duplicate_policy=Policy.SKIP)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert (run.added, run.skipped, run.duplicates_skipped) == (1, 1, 1)
    billing_acme.refresh_from_db()
    assert billing_acme.phone == "+1 000" and active_crm_id(billing_acme) is None


def test_duplicate_names_inside_the_crm_are_not_billing_duplicates(fake, make_connection):
    fake.add_account("Twin")
    fake.add_account("Twin")
    make_connection(duplicate_policy=Policy.SKIP)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert (run.added, run.skipped) == (2, 0)
