"""HTTP requests per run, counted by the fake server: one per page of 200, plus a small constant."""

import math

from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm

# The token refresh, one half-empty last page per module, and the two deleted-records checks of
# an incremental run.
CONSTANT = 5


def _requests_served(fake) -> int:
    return fake.api_request_count() + fake.token_requests


def _crm_with_accounts_and_contacts(fake, *, accounts: int, contacts: int, orphans: int) -> None:
    made = [fake.add_account(f"Company {i:04d}", Email=f"ap{i}@example.com") for i in range(accounts)]
    for j in range(contacts):
        fake.add_contact(f"Person{j}", "Doe", account=made[j % accounts], Email=f"p{j}@example.com")
    for k in range(orphans):
        fake.add_contact("Orphan", f"Person{k}", Email=f"orphan{k}@example.com")


def test_a_first_sync_makes_one_request_per_page_of_200_records(fake, make_connection):
    _crm_with_accounts_and_contacts(fake, accounts=450, contacts=600, orphans=100)
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS, include_orphan_contacts=True)
    fake.expire_tokens()  # the run starts with a refresh, as after two hours without a sync
    fake.reset_log()

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.records_seen == 1_150
    assert _requests_served(fake) <= math.ceil(1_150 / 200) + CONSTANT
    assert run.http_requests == fake.api_request_count() + fake.token_requests


def test_an_incremental_sync_makes_a_constant_number_of_requests(fake, make_connection):
    _crm_with_accounts_and_contacts(fake, accounts=450, contacts=600, orphans=100)
    make_connection(module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS, include_orphan_contacts=True)
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    for record in fake.records["Accounts"].values():
        record["Modified_Time"] = "2000-01-01T00:00:00+00:00"
    for record in fake.records["Contacts"].values():
        record["Modified_Time"] = "2000-01-01T00:00:00+00:00"
    fake.update_record("Accounts", next(iter(fake.records["Accounts"])), Phone="+1 555 0199")
    fake.reset_log()

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert run.is_incremental and (run.records_seen, run.updated) == (1, 1)
    assert _requests_served(fake) <= math.ceil(1 / 200) + CONSTANT
