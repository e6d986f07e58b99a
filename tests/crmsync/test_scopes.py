"""Connecting with the OAuth scopes Zoho really requires: one string to paste, scope errors that name
the scope, and the organisation read only when the token may."""

import pytest
from django.urls import reverse

from billing.models import Customer, Organisation
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import connect_crm, sync_crm
from crmsync.zoho import ZOHO_SCOPE_STRING, CrmScopeError, ZohoClient
from tests.factories import StaffUserFactory

WITHOUT_ORG = "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL,ZohoCRM.settings.custom_views.READ"


@pytest.fixture
def staff(client, db):
    client.force_login(StaffUserFactory())
    return client


def _credentials(fake_server):
    fake = fake_server.fake
    return {
        "email": "owner@example.com",
        "accounts_domain": fake_server.url,
        "api_domain": fake_server.url,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
    }


def test_the_connect_form_lists_every_scope_as_one_string_to_paste(staff):
    page = staff.get(reverse("admin:crmsync_credentials")).content.decode()

    assert ZOHO_SCOPE_STRING == (
        "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.ALL,ZohoCRM.settings.custom_views.READ,ZohoCRM.org.READ"
    )
    assert f'value="{ZOHO_SCOPE_STRING}"' in page
    assert "settings.ALL scopes" not in page


def test_a_token_with_exactly_the_listed_scopes_connects_configures_and_syncs(
    staff, fake_server, fake, django_capture_on_commit_callbacks
):
    fake.scopes = ZOHO_SCOPE_STRING
    acme = fake.add_account("Acme")
    fake.add_deal(acme, "Acme renewal")

    assert staff.post(reverse("admin:crmsync_credentials"), _credentials(fake_server)).status_code == 302
    form = staff.get(reverse("admin:crmsync_configure")).context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:crmsync_configure"),
            {**form.initial, "module": "accounts", "direction": "both", "save_and_sync": "1"},
        )

    run = SyncRun.objects.get()
    assert (run.status, run.added, run.message) == (SyncRun.Status.SUCCEEDED, 1, "")
    assert CrmConnection.current().connect_warning == ""
    assert staff.get(reverse("admin:crmsync_search"), {"q": "acme"}).context["results"]


def test_a_token_without_org_read_connects_with_a_warning_instead_of_the_currency_check(staff, fake_server, fake):
    fake.scopes = WITHOUT_ORG
    fake.currency = "EUR"  # would be refused if it could be read

    response = staff.post(reverse("admin:crmsync_credentials"), _credentials(fake_server), follow=True)

    page = response.content.decode()
    connection = CrmConnection.current()
    assert connection.has_credentials and connection.is_enabled
    assert "Connected to Zoho CRM." in page
    assert "ZohoCRM.org.READ" in connection.connect_warning
    assert "base currencies were not compared" in connection.connect_warning
    assert connection.connect_warning in page.replace("&#x27;", "'")
    overview = staff.get(reverse("admin:crmsync_crmconnection_changelist")).content.decode()
    assert 'id="crm-connect-warning"' in overview


def test_with_org_read_a_different_base_currency_is_still_refused(fake_server, fake, db):
    fake.scopes = ZOHO_SCOPE_STRING
    fake.currency = "EUR"
    assert Organisation.current().base_currency != "EUR"

    with pytest.raises(Exception, match="base currency is EUR"):
        connect_crm(**_credentials(fake_server))


def test_reconnecting_with_org_read_clears_the_warning(fake_server, fake, db):
    fake.scopes = WITHOUT_ORG
    connect_crm(**_credentials(fake_server))
    fake.scopes = ZOHO_SCOPE_STRING

    connect_crm(**_credentials(fake_server))

    assert CrmConnection.current().connect_warning == ""


def test_a_call_outside_the_tokens_scopes_names_the_missing_scope_and_is_not_refreshed(fake_server, fake):
    fake.scopes = "ZohoCRM.settings.ALL,ZohoCRM.org.READ"
    with ZohoClient(
        accounts_domain=fake_server.url,
        api_domain=fake_server.url,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        refresh_token=fake.refresh_token,
        backoff_seconds=0.001,
    ) as client:
        with pytest.raises(CrmScopeError) as refused:
            list(client.iter_pages("Accounts", fields=["Account_Name"]))

    assert refused.value.scope == "ZohoCRM.modules.ALL"
    assert "without the ZohoCRM.modules.ALL scope" in refused.value.reason
    assert "Update the CRM credentials" not in refused.value.reason
    assert fake.token_requests == 1  # a new token would have the same scopes


def test_a_sync_refused_for_a_scope_fails_with_that_scope_in_the_history(fake, make_connection):
    fake.add_account("Acme")
    make_connection()
    fake.scopes = "ZohoCRM.settings.ALL,ZohoCRM.org.READ"
    fake.expire_tokens()  # the next token comes from the narrowed refresh token

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.FAILED
    assert "Zoho CRM refused GET Accounts: the refresh token was generated without the ZohoCRM.modules.ALL" in (
        run.message
    )
    assert not Customer.objects.exists()


def test_the_fake_refuses_field_metadata_without_a_settings_scope(fake_server, fake):
    fake.scopes = "ZohoCRM.modules.ALL"
    with ZohoClient(
        accounts_domain=fake_server.url,
        api_domain=fake_server.url,
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        refresh_token=fake.refresh_token,
    ) as client:
        with pytest.raises(CrmScopeError, match="ZohoCRM.settings.fields.ALL"):
            client.fields("Accounts")
        with pytest.raises(CrmScopeError, match="ZohoCRM.org.READ"):
            client.base_currency()
