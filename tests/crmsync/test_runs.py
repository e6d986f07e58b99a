"""Runs: the lock, pause/resume, disable, beat, the Celery task, credentials at rest."""

import logging
import threading
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connections

from billing.models import Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import (
    configure_sync,
    connect_crm,
    disable_integration,
    pause_sync,
    request_instant_sync,
    resume_sync,
    sync_crm,
)
from crmsync.tasks import sync_crm_task

REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/5",
        "KEY_PREFIX": f"crmsync-tests-{uuid.uuid4().hex[:8]}",  # concurrent test runs share DB 5
    }
}


@pytest.mark.django_db(transaction=True)
def test_two_triggers_at_once_run_one_sync_and_record_the_other_as_skipped(fake, make_connection, settings):
    settings.CACHES = REDIS_CACHE  # the production lock store
    from django.core.cache import cache

    cache.delete("crmsync:sync-lock")
    for i in range(250):
        fake.add_account(f"Co {i}")
    make_connection()
    first_page_served, second_trigger_done = threading.Event(), threading.Event()

    def hold_first_page(method, path, query):
        if path == "/crm/v8/Accounts" and not first_page_served.is_set():
            first_page_served.set()
            second_trigger_done.wait(10)

    fake.hooks.append(hold_first_page)
    results = {}

    def first_trigger():
        results["first"] = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)
        connections.close_all()  # this thread's connection would keep the test database open

    first = threading.Thread(target=first_trigger)
    first.start()
    assert first_page_served.wait(10)
    results["second"] = sync_crm(trigger=SyncRun.Trigger.INSTANT)
    second_trigger_done.set()
    first.join(20)

    assert results["first"].status == SyncRun.Status.SUCCEEDED
    assert results["second"].status == SyncRun.Status.SKIPPED
    assert f"run #{results['first'].pk}" in results["second"].message
    assert Customer.objects.count() == 250
    assert cache.get("crmsync:sync-lock") is None  # released for the next trigger
    assert sync_crm(trigger=SyncRun.Trigger.INSTANT).status == SyncRun.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_pause_during_a_running_sync_lets_it_finish_then_refuses_syncs(fake, make_connection):
    for i in range(450):
        fake.add_account(f"Co {i}")
    make_connection()
    pages = []

    def pause_on_second_page(method, path, query):
        if path == "/crm/v8/Accounts":
            pages.append(query)
            if len(pages) == 2:
                pause_sync()  # staff clicks Pause while page 2 is being fetched
                connections.close_all()

    fake.hooks.append(pause_on_second_page)

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED and run.added == 450
    assert CrmConnection.current().is_paused  # the run did not write the flag back
    with pytest.raises(ValidationError) as refused:
        request_instant_sync()
    assert refused.value.code == "paused"
    assert sync_crm(trigger=SyncRun.Trigger.SCHEDULED) is None
    assert SyncRun.objects.count() == 1

    resume_sync()
    assert sync_crm(trigger=SyncRun.Trigger.SCHEDULED).status == SyncRun.Status.SUCCEEDED


def test_a_disabled_integration_does_not_sync(fake, make_connection):
    make_connection()
    disable_integration()
    with pytest.raises(ValidationError) as refused:
        request_instant_sync()
    assert refused.value.code == "disabled"
    assert sync_crm_task(trigger=SyncRun.Trigger.SCHEDULED) is None


def test_instant_sync_runs_the_task(fake, make_connection, django_capture_on_commit_callbacks):
    fake.add_account("Acme")
    make_connection()
    with django_capture_on_commit_callbacks(execute=True):
        request_instant_sync()
    run = SyncRun.objects.get()
    assert (run.trigger, run.status, run.added) == (SyncRun.Trigger.INSTANT, SyncRun.Status.SUCCEEDED, 1)


def test_save_and_sync_runs_the_initial_sync_and_save_later_does_not(
    fake, make_connection, django_capture_on_commit_callbacks
):
    fake.add_account("Acme")
    make_connection(is_configured=False)
    fields = {"Accounts": [{"api_name": "Account_Name", "data_type": "text"}]}
    options = dict(
        module=CrmConnection.Module.ACCOUNTS,
        include_orphan_contacts=False,
        direction=CrmConnection.Direction.FETCH,
        duplicate_policy=CrmConnection.DuplicatePolicy.SKIP,
        account_view=None,
        contact_view=None,
        field_mapping={"Accounts": [["Account_Name", "display_name"]]},
        crm_fields=fields,
    )
    with django_capture_on_commit_callbacks(execute=True):
        configure_sync(**options, sync_now=False)
    assert not SyncRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        configure_sync(**options, sync_now=True)
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.INITIAL
    with pytest.raises(ValidationError) as refused:
        configure_sync(
            **{**options, "field_mapping": {"Accounts": [["No_Such_Field", "display_name"]]}}, sync_now=False
        )
    assert refused.value.code == "unknown_crm_field"


def test_the_beat_schedule_runs_the_sync_task_every_two_hours():
    entry = django_settings.CELERY_BEAT_SCHEDULE["crm-sync-every-2-hours"]
    assert entry["task"] == sync_crm_task.name == "crmsync.tasks.sync_crm_task"
    assert entry["schedule"] == 2 * 60 * 60
    assert entry["kwargs"] == {"trigger": SyncRun.Trigger.SCHEDULED}


def test_credentials_are_encrypted_at_rest_and_never_logged(fake_server, db, caplog):
    fake = fake_server.fake
    with caplog.at_level(logging.DEBUG):
        connect_crm(
            email="owner@example.com",
            accounts_domain=fake_server.url,
            api_domain=fake_server.url,
            client_id=fake.client_id,
            client_secret=fake.client_secret,
            refresh_token=fake.refresh_token,
        )
    row = CrmConnection.objects.values().get()
    stored = " ".join(str(v) for v in row.values())
    assert fake.client_secret not in stored and fake.refresh_token not in stored
    connection = CrmConnection.current()
    assert (connection.client_secret, connection.refresh_token) == (fake.client_secret, fake.refresh_token)
    assert fake.client_secret not in caplog.text and fake.refresh_token not in caplog.text
    assert connection.access_token not in caplog.text


def test_wrong_credentials_are_refused_and_not_stored(fake_server, db):
    with pytest.raises(ValidationError) as refused:
        connect_crm(
            email="",
            accounts_domain=fake_server.url,
            api_domain=fake_server.url,
            client_id="someone-else",
            client_secret="x",
            refresh_token="y",
        )
    assert refused.value.code == "credentials_refused"
    assert not CrmConnection.current().has_credentials


def test_a_run_left_running_by_a_dead_worker_is_closed_by_the_next_run(fake, make_connection):
    make_connection()
    orphan = SyncRun.objects.create(trigger=SyncRun.Trigger.SCHEDULED)  # its worker was killed

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    orphan.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert orphan.status == SyncRun.Status.FAILED and "Interrupted" in orphan.message


def test_connecting_needs_the_same_base_currency_in_both_apps(fake_server, db):
    fake_server.fake.currency = "EUR"
    with pytest.raises(ValidationError) as refused:
        connect_crm(
            email="",
            accounts_domain=fake_server.url,
            api_domain=fake_server.url,
            client_id=fake_server.fake.client_id,
            client_secret=fake_server.fake.client_secret,
            refresh_token=fake_server.fake.refresh_token,
        )
    assert refused.value.code == "currency_mismatch"
    assert "EUR" in refused.value.messages[0] and "USD" in refused.value.messages[0]
    assert not CrmConnection.current().has_credentials
