"""The fake Zoho CRM on a free localhost port, and a connection pointing at it."""

import pytest

from crmsync.mapping import DEFAULT_MAPPING
from crmsync.models import CrmConnection
from crmsync.services import connect_crm
from tests.fakes.zoho_server import FakeZoho, FakeZohoServer


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.CRM_HTTP_BACKOFF_SECONDS = 0.001
    settings.CRM_HTTP_RETRIES = 3
    settings.CRM_MODIFIED_SINCE_MARGIN_SECONDS = 0


@pytest.fixture
def fake_server():
    server = FakeZohoServer(FakeZoho()).start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server) -> FakeZoho:
    return fake_server.fake


@pytest.fixture
def make_connection(fake_server, db):
    """Connect through the real service (one token refresh against the fake), then configure."""

    def make(**settings) -> CrmConnection:
        connect_crm(
            email="owner@example.com",
            accounts_domain=fake_server.url,
            api_domain=fake_server.url,
            client_id=fake_server.fake.client_id,
            client_secret=fake_server.fake.client_secret,
            refresh_token=fake_server.fake.refresh_token,
        )
        values = dict(
            module=CrmConnection.Module.ACCOUNTS,
            direction=CrmConnection.Direction.FETCH,
            duplicate_policy=CrmConnection.DuplicatePolicy.SKIP,
            is_configured=True,
            field_mapping={m: [list(p) for p in pairs] for m, pairs in DEFAULT_MAPPING.items()},
        )
        values.update(settings)
        CrmConnection.objects.filter(pk=1).update(**values)
        return CrmConnection.current()

    return make
