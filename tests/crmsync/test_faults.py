"""Token expiry mid-run, 429 storms and malformed pages: finish or fail cleanly, never half a page."""

from billing.models import Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import sync_crm


def test_a_token_that_expires_mid_run_is_refreshed(fake, make_connection):
    for i in range(450):
        fake.add_account(f"Co {i}")
    make_connection()
    fake.expire_tokens_after = 1  # the second page meets an expired token

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.added == 450
    assert fake.token_requests == 2  # connect, then the mid-run refresh
    assert CrmConnection.current().access_token  # the new token is kept, encrypted


def test_a_429_storm_fails_the_run_with_a_reason(fake, make_connection):
    fake.add_account("Acme")
    make_connection()
    fake.fail_next(10_000, status=429)

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.FAILED
    assert "throttling" in run.message and "gave up" in run.message
    assert run.finished_at is not None
    assert CrmConnection.current().accounts_synced_until is None  # the next run starts over
    fake.faults.clear()
    assert sync_crm(trigger=SyncRun.Trigger.INSTANT).status == SyncRun.Status.SUCCEEDED


def test_a_malformed_page_fails_the_run_without_applying_any_of_it(fake, make_connection):
    for i in range(500):
        fake.add_account(f"Co {i:03d}")
    make_connection()
    fake.malform_page("Accounts", 2)

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.FAILED
    assert "not JSON" in run.message
    # Page 1 was whole and stays; page 2 broke and left nothing; page 3 was never read.
    assert Customer.objects.count() == run.added == 200
    assert CrmConnection.current().accounts_synced_until is None

    fake.malformed.clear()
    again = sync_crm(trigger=SyncRun.Trigger.INSTANT)
    assert (again.added, again.updated) == (300, 0)
