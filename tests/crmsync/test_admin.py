"""Staff pages through the test client, against the fake Zoho CRM."""

import datetime as dt

import pytest
from django.urls import reverse

from billing.models import Customer
from billing.models.ledger import Invoice
from crmsync.models import CrmConnection, SyncFailure, SyncRun
from crmsync.selectors import deal_link
from crmsync.services import sync_crm
from tests.factories import StaffUserFactory

OVERVIEW = "admin:crmsync_crmconnection_changelist"


@pytest.fixture
def staff(client, db):
    client.force_login(StaffUserFactory())
    return client


def test_connect_configure_save_and_sync_then_see_history(staff, fake_server, fake, django_capture_on_commit_callbacks):
    fake.add_account("Acme", Phone="+1 555")
    acme_view = fake.add_view("Accounts", "Acme only", criteria={"Account_Name": "Acme"})
    fake.add_account("Globex")

    response = staff.post(
        reverse("admin:crmsync_credentials"),
        {
            "email": "owner@example.com",
            "accounts_domain": fake_server.url,
            "api_domain": fake_server.url,
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "refresh_token": fake.refresh_token,
        },
    )
    assert response.status_code == 302 and response.url == reverse("admin:crmsync_configure")

    page = staff.get(reverse("admin:crmsync_configure"))
    assert "Acme only" in page.content.decode()  # the view picker lists the CRM's views
    form = page.context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:crmsync_configure"),
            {
                "module": "accounts",
                "direction": "fetch",
                "duplicate_policy": "skip",
                "account_view": acme_view,
                "contact_view": "",
                **{name: picked for name, picked in form.initial.items() if "__" in name},
                "save_and_sync": "1",
            },
        )
    assert response.status_code == 302

    assert list(Customer.objects.values_list("display_name", flat=True)) == ["Acme"]
    overview = staff.get(reverse(OVERVIEW)).content.decode()
    assert "Active" in overview and "Acme only" in overview and "Save and Sync" in overview
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.INITIAL
    assert staff.get(reverse("admin:crmsync_syncrun_change", args=[run.pk])).status_code == 200


def test_save_and_sync_later_only_saves(staff, make_connection, django_capture_on_commit_callbacks):
    make_connection(is_configured=False)
    form = staff.get(reverse("admin:crmsync_configure")).context["form"]
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:crmsync_configure"),
            {
                "module": "accounts_contacts",
                "include_orphan_contacts": "on",
                "direction": "both",
                "duplicate_policy": "overwrite",
                "account_view": "",
                "contact_view": "",
                **{name: picked for name, picked in form.initial.items() if name.startswith("accounts__")},
                "contacts__display_name": "Full_Name",
                "save_later": "1",
            },
        )
    connection = CrmConnection.current()
    assert connection.is_configured and connection.module == "accounts_contacts" and connection.direction == "both"
    assert connection.field_mapping["Contacts"] == [["Full_Name", "display_name"]]
    assert not SyncRun.objects.exists()


def test_a_mapping_to_an_unknown_crm_field_is_shown_on_the_form(staff, make_connection):
    make_connection()
    response = staff.post(
        reverse("admin:crmsync_configure"),
        {
            "module": "accounts",
            "direction": "fetch",
            "duplicate_policy": "skip",
            "account_view": "",
            "contact_view": "",
            "accounts__display_name": "Account_Name",
            "accounts__phone": "Nope_Field",
            "save_later": "1",
        },
    )
    assert response.status_code == 200
    assert "Nope_Field is not one of the available choices" in response.content.decode()


def test_instant_sync_pause_resume_and_disable_buttons(
    staff, fake, make_connection, django_capture_on_commit_callbacks
):
    fake.add_account("Acme")
    make_connection()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:crmsync_action", args=["instant_sync"]))
    assert SyncRun.objects.get().added == 1

    staff.post(reverse("admin:crmsync_action", args=["pause"]))
    response = staff.post(reverse("admin:crmsync_action", args=["instant_sync"]), follow=True)
    assert "Sync is paused" in response.content.decode()
    assert SyncRun.objects.count() == 1
    assert "Resume Sync" in response.content.decode()

    staff.post(reverse("admin:crmsync_action", args=["resume"]))
    staff.post(reverse("admin:crmsync_action", args=["disable"]))
    assert not CrmConnection.current().is_enabled
    assert "Enable Integration" in staff.get(reverse(OVERVIEW)).content.decode()


def test_progress_of_a_running_sync_and_failures_in_history(staff, make_connection):
    make_connection()
    SyncRun.objects.create(
        trigger=SyncRun.Trigger.SCHEDULED,
        records_seen=400,
        pages_done=2,
        current_step="Fetching Accounts",
        added=399,
        failed=1,
    )
    page = staff.get(reverse(OVERVIEW)).content.decode()
    assert "Sync in progress" in page and "400 CRM records read in 2 pages" in page
    assert 'http-equiv="refresh"' in page

    done = SyncRun.objects.create(trigger=SyncRun.Trigger.INSTANT, status=SyncRun.Status.SUCCEEDED, failed=1)
    SyncFailure.objects.create(run=done, module="Accounts", record_name="Bad Co", reason="x is not a valid email")
    detail = staff.get(reverse("admin:crmsync_syncrun_change", args=[done.pk])).content.decode()
    assert "Bad Co" in detail and "x is not a valid email" in detail


def test_search_crm_and_import_a_customer(staff, fake, make_connection):
    fake.add_account("Initech", Phone="+1 555 0199")
    fake.add_contact("Peter", "Gibbons", Email="peter@initech.example")
    make_connection()

    results = staff.get(reverse("admin:crmsync_search"), {"q": "initech"})
    rows = results.context["results"]
    assert {(r["module"], r["name"]) for r in rows} == {("Accounts", "Initech"), ("Contacts", "Peter Gibbons")}

    account = next(r for r in rows if r["module"] == "Accounts")
    response = staff.post(reverse("admin:crmsync_search"), {"module": "Accounts", "crm_id": account["id"]})
    customer = Customer.objects.get()
    assert response.url == reverse("admin:billing_customer_change", args=[customer.pk])
    assert (customer.display_name, customer.phone, customer.origin) == ("Initech", "+1 555 0199", "crm")
    again = staff.get(reverse("admin:crmsync_search"), {"q": "initech"}).context["results"]
    assert next(r for r in again if r["module"] == "Accounts")["customer_id"] == customer.pk
    staff.post(reverse("admin:crmsync_search"), {"module": "Accounts", "crm_id": account["id"]})
    assert Customer.objects.count() == 1


def test_link_and_dissociate_a_potential_on_an_invoice(staff, fake, make_connection):
    acme = fake.add_account("Acme")
    deal = fake.add_deal(acme, "Acme renewal", Stage="Negotiation", Amount=1200.5)
    other = fake.add_deal(fake.add_account("Other"), "Not Acme's")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    invoice = Invoice.objects.create(
        customer=Customer.objects.get(display_name="Acme"),
        number="INV-00042",
        currency="USD",
        issued_on=dt.date(2026, 11, 1),
        due_on=dt.date(2026, 12, 1),
    )

    found = staff.get(reverse("admin:crmsync_find_document"), {"kind": "invoice", "number": "inv-00042"})
    url = reverse("admin:crmsync_deals", args=["invoice", invoice.pk])
    assert found.url == url
    assert [d["name"] for d in staff.get(url).context["deals"]] == ["Acme renewal"]

    staff.post(url, {"deal_id": other["id"]})
    assert deal_link(invoice) is None  # not this customer's potential

    staff.post(url, {"deal_id": deal["id"]})
    assert (deal_link(invoice).crm_id, deal_link(invoice).crm_name) == (deal["id"], "Acme renewal")
    assert "Acme renewal" in staff.get(url).content.decode()

    staff.post(url, {"dissociate": "1"})
    assert deal_link(invoice) is None


def test_non_staff_cannot_reach_the_pages(client, db):
    assert client.get(reverse(OVERVIEW)).status_code == 302
    assert client.post(reverse("admin:crmsync_action", args=["pause"])).status_code == 302


def test_update_credentials_keeps_the_stored_secrets_when_left_empty(staff, fake_server, make_connection):
    make_connection()
    response = staff.post(
        reverse("admin:crmsync_credentials"),
        {
            "email": "new-owner@example.com",
            "accounts_domain": fake_server.url,
            "api_domain": fake_server.url,
            "client_id": fake_server.fake.client_id,
            "client_secret": "",
            "refresh_token": "",
        },
    )
    assert response.status_code == 302
    connection = CrmConnection.current()
    assert connection.email == "new-owner@example.com"
    assert connection.client_secret == fake_server.fake.client_secret

    refused = staff.post(
        reverse("admin:crmsync_credentials"),
        {
            "email": "x@example.com",
            "accounts_domain": fake_server.url,
            "api_domain": fake_server.url,
            "client_id": fake_server.fake.client_id,
            "client_secret": "wrong",
            "refresh_token": "",
        },
    )
    assert refused.status_code == 200 and "Zoho refused the credentials" in refused.content.decode()
    assert CrmConnection.current().email == "new-owner@example.com"


def test_the_crm_customers_link_filters_the_customer_list(staff, fake, make_connection):
    fake.add_account("From CRM")
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    Customer.objects.create(display_name="Local Co")
    page = staff.get(reverse(OVERVIEW)).content.decode()
    link = reverse("admin:billing_customer_changelist") + "?origin=crm"
    assert link in page
    listed = staff.get(link).context["cl"].queryset
    assert list(listed.values_list("display_name", flat=True)) == ["From CRM"]


def test_the_overview_names_itself_once_in_the_breadcrumbs_and_its_buttons_share_one_style(staff, make_connection):
    make_connection()

    page = staff.get(reverse(OVERVIEW)).content.decode()

    breadcrumbs = page.split('<div class="breadcrumbs">')[1].split("</div>")[0]
    assert breadcrumbs.count("Zoho CRM integration") == 1
    # Links and submit inputs in one row had different heights (a.button vs input): one class sizes both.
    rows = page.split('class="submit-row crm-actions"')[1:]
    assert len(rows) == 2
    assert "crm-actions" in staff.get(reverse("admin:crmsync_configure")).content.decode()


def test_the_history_list_shows_why_each_run_ran_and_why_it_failed(staff, make_connection, fake):
    make_connection()
    fake.fail_next(1_000, status=429)
    failed = sync_crm(trigger=SyncRun.Trigger.INSTANT)
    fake.faults.clear()
    SyncRun.objects.create(trigger=SyncRun.Trigger.SCHEDULED, status=SyncRun.Status.SUCCEEDED)

    page = staff.get(reverse("admin:crmsync_syncrun_changelist")).content.decode()

    assert "<th" in page and ">Reason<" in page
    assert f"Instant Sync: {failed.message}" in page
    assert "gave up after 4 attempts" in failed.message
    assert "Scheduled (every 2 hours)" in page
