"""The HTTP timeout is a setting, and the retry log lines are sentences that tell a timeout from a refusal."""

import logging
import socket
import time

import pytest

from crmsync.clients import client_for
from crmsync.zoho import CrmUnavailable, ZohoClient


def _hang_first(calls: int, seconds: float):
    left = {"n": calls}

    def hook(method, path, query):
        if left["n"] > 0:
            left["n"] -= 1
            time.sleep(seconds)

    return hook


def test_a_crm_slower_than_crm_http_timeout_is_given_up_on_and_retried(fake, make_connection, settings, caplog):
    fake.add_account("Acme")
    connection = make_connection()
    settings.CRM_HTTP_TIMEOUT = 0.2
    fake.hooks.append(_hang_first(1, 1.0))

    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="crmsync.zoho"), client_for(connection) as client:
        pages = list(client.iter_pages("Accounts", fields=["Account_Name"]))

    assert time.monotonic() - started < 0.9  # did not wait for the hanging answer
    assert [r["Account_Name"] for r in pages[0].records] == ["Acme"]
    assert client.timeout == 0.2
    assert "Zoho CRM did not answer within 0.2 s; retrying GET /crm/v8/Accounts in 0.001 s (attempt 2 of 4)." in (
        caplog.messages
    )


def test_the_timeout_defaults_to_30_seconds(fake, make_connection, settings):
    connection = make_connection()
    del settings.CRM_HTTP_TIMEOUT

    with client_for(connection) as client:
        assert client.timeout == 30.0


def test_a_refused_connection_is_not_called_a_timeout(caplog):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    zoho = ZohoClient(
        accounts_domain=url,
        api_domain=url,
        client_id="id",
        client_secret="secret",
        refresh_token="token",
        max_retries=1,
        backoff_seconds=0.001,
    )

    with caplog.at_level(logging.INFO, logger="crmsync.zoho"), pytest.raises(CrmUnavailable) as failed:
        zoho.refresh_access_token()

    assert caplog.messages == [
        "Zoho CRM could not be reached (the connection was refused or the address is unknown); "
        "retrying POST /oauth/v2/token in 0.001 s (attempt 2 of 2)."
    ]
    assert failed.value.reason == (
        "Zoho CRM could not be reached (the connection was refused or the address is unknown); "
        "gave up after 2 attempts. The next sync will try again."
    )


def test_a_sync_that_does_not_run_says_why_in_a_sentence(make_connection, caplog):
    from crmsync.models import SyncRun
    from crmsync.services import pause_sync, sync_crm

    make_connection()
    pause_sync()

    with caplog.at_level(logging.INFO, logger="crmsync.services.sync"):
        assert sync_crm(trigger=SyncRun.Trigger.SCHEDULED) is None

    assert "The CRM sync (scheduled) did not run: the integration is paused." in caplog.messages
