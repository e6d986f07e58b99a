import math

from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Customer
from crmsync.models import SyncRun
from crmsync.services import sync_crm
from tests.factories import linked_customer


def test_accounts_become_business_customers_with_mapped_fields(fake, make_connection):
    fake.add_account(
        "Acme Inc",
        Phone="+1 555 0100",
        Website="https://acme.example",
        Email="ap@acme.example",
        Billing_Street="1 Main St",
        Billing_City="Springfield",
        Payment_Terms=45,
    )
    make_connection()

    run = sync_crm(trigger=SyncRun.Trigger.INSTANT)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.added, run.updated, run.failed) == (1, 0, 0)
    acme = Customer.objects.get()
    assert acme.customer_type == Customer.Type.BUSINESS
    assert acme.origin == Customer.Origin.CRM
    assert (acme.display_name, acme.phone, acme.email, acme.website) == (
        "Acme Inc",
        "+1 555 0100",
        "ap@acme.example",
        "https://acme.example",
    )
    assert acme.billing_address == "1 Main St\nSpringfield"
    assert acme.payment_terms_days == 45


def _writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE") and "crmsync_" not in q["sql"].split("(")[0]
    ]


def test_2500_accounts_are_paged_with_page_token_and_few_requests(fake, make_connection):
    for i in range(2_600):
        fake.add_account(f"Company {i:05d}", Payment_Terms=30)
    make_connection()

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.added == Customer.objects.count() == 2_600
    assert run.records_seen == 2_600 and run.pages_done == 13
    assert any("page_token" in q for _m, _p, q in fake.requests)
    # No per-record calls: one request per page of 200, the token, and nothing else.
    assert run.http_requests <= math.ceil(2_600 / 200) + 3


def test_a_second_run_with_nothing_changed_writes_nothing(fake, make_connection, django_assert_max_num_queries):
    for i in range(30):
        fake.add_account(f"Company {i}", Email=f"c{i}@example.com", Payment_Terms=15)
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    before = dict(Customer.objects.values_list("pk", "updated_at"))

    with CaptureQueriesContext(connection) as queries:
        incremental = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert incremental.is_incremental
    assert incremental.status == SyncRun.Status.SUCCEEDED, incremental.message
    assert (incremental.added, incremental.updated, incremental.deleted, incremental.failed) == (0, 0, 0, 0)
    assert _writes(queries.captured_queries) == []
    assert dict(Customer.objects.values_list("pk", "updated_at")) == before


def test_an_incremental_run_fetches_only_what_changed(fake, make_connection, settings):
    accounts = [fake.add_account(f"Company {i}") for i in range(5)]
    make_connection()
    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    # Later than the first run's start by more than the If-Modified-Since second resolution.
    for record in fake.records["Accounts"].values():
        record["Modified_Time"] = "2000-01-01T00:00:00+00:00"
    fake.update_record("Accounts", accounts[2]["id"], Phone="+44 20 7946 0000")

    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    assert (run.records_seen, run.updated, run.added) == (1, 1, 0)
    assert linked_customer(accounts[2]["id"]).phone == "+44 20 7946 0000"
    assert "If-Modified-Since" in fake.last_headers


def test_the_account_view_is_honoured(fake, make_connection):
    fake.add_account("Big Co", Industry="Enterprise")
    fake.add_account("Small Co", Industry="SMB")
    view_id = fake.add_view("Accounts", "Enterprise", criteria={"Industry": "Enterprise"})
    make_connection(account_view_id=view_id, account_view_name="Enterprise")

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert list(Customer.objects.values_list("display_name", flat=True)) == ["Big Co"]
    assert [q["cvid"] for _m, p, q in fake.requests if p == "/crm/v8/Accounts"] == [view_id]


def test_crm_fields_can_be_mapped_to_custom_fields(fake, make_connection):
    fake.add_account("Acme", Customer_Tier="Gold", Tax_Number="DE123")
    mapping = {
        "Accounts": [
            ["Account_Name", "display_name"],
            ["Customer_Tier", "custom:tier"],
            ["Tax_Number", "tax_id"],
        ]
    }
    make_connection(field_mapping=mapping)

    sync_crm(trigger=SyncRun.Trigger.INITIAL)

    acme = Customer.objects.get()
    assert acme.custom_fields == {"tier": "Gold"}
    assert acme.tax_id == "DE123"
    assert acme.phone == ""  # not mapped, not touched


def test_a_record_that_cannot_be_mapped_is_a_failure_with_its_reason(fake, make_connection):
    fake.add_account("Good Co")
    fake.add_account("Bad Email Co", Email="not-an-email")
    fake.add_account("Bad Terms Co", Payment_Terms=9999)
    make_connection()

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert (run.added, run.failed) == (1, 2)
    reasons = {f.record_name: f.reason for f in run.failures.all()}
    assert "not-an-email is not a valid email address." in reasons["Bad Email Co"]
    assert "9999" in reasons["Bad Terms Co"]


def test_very_long_and_unicode_names_fit_the_columns(fake, make_connection):
    long_name = "Ünïcødé Größe 株式会社 " * 20
    fake.add_account(long_name)
    make_connection()

    run = sync_crm(trigger=SyncRun.Trigger.INITIAL)

    assert run.added == 1
    assert Customer.objects.get().display_name == long_name.strip()[:255]
