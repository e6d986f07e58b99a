"""Configure (the set-up steps after connect): a field-mapping picker built from Zoho's settings/fields,
types checked, and the default mapping when the field list cannot be read."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Customer
from crmsync.models import CrmConnection, SyncRun
from crmsync.services import configure_sync
from tests.factories import StaffUserFactory

CONFIGURE = "admin:crmsync_configure"
NAME = {"accounts__display_name": "Account_Name"}
STEPS = {"module": "accounts", "direction": "fetch", "duplicate_policy": "skip", "account_view": "", "contact_view": ""}


@pytest.fixture
def staff(client, db):
    client.force_login(StaffUserFactory())
    return client


def _narrow_scopes(fake, scopes: str) -> None:
    fake.scopes = scopes
    fake.expire_tokens()  # the next access token comes from the narrowed refresh token


def test_without_the_field_list_configure_keeps_the_default_mapping_and_syncs_with_it(
    staff, fake, make_connection, django_capture_on_commit_callbacks
):
    fake.add_account("Acme", Phone="+1 555 0100", Billing_City="Springfield")
    make_connection(is_configured=False, field_mapping={})
    _narrow_scopes(fake, "ZohoCRM.modules.ALL,ZohoCRM.settings.custom_views.READ,ZohoCRM.org.READ")

    page = staff.get(reverse(CONFIGURE))
    with django_capture_on_commit_callbacks(execute=True):
        saved = staff.post(reverse(CONFIGURE), {**STEPS, "save_and_sync": "1"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "field list could not be read" in html and "ZohoCRM.settings.fields.ALL" in html
    assert 'id="mapping-in-use"' in html and "Account_Name → display_name" in html
    assert not page.context["form"].picker_groups
    assert saved.status_code == 302
    assert CrmConnection.current().is_configured and CrmConnection.current().field_mapping == {}
    assert SyncRun.objects.get().status == SyncRun.Status.SUCCEEDED
    acme = Customer.objects.get()
    assert (acme.display_name, acme.phone, acme.billing_address) == ("Acme", "+1 555 0100", "Springfield")


def test_without_field_list_and_views_the_stored_mapping_and_view_stay(staff, fake, make_connection):
    view = fake.add_view("Accounts", "Big ones", criteria={"Industry": "Enterprise"})
    custom = {"Accounts": [["Account_Name", "display_name"], ["Customer_Tier", "custom:tier"]]}
    make_connection(field_mapping=custom, account_view_id=view, account_view_name="Big ones")
    _narrow_scopes(fake, "ZohoCRM.modules.ALL")

    page = staff.get(reverse(CONFIGURE))
    staff.post(reverse(CONFIGURE), {**STEPS, "account_view": view, "save_later": "1"})

    assert "Big ones" in page.content.decode() and "views could not be read" in page.content.decode()
    connection = CrmConnection.current()
    assert connection.field_mapping == custom
    assert (connection.account_view_id, connection.account_view_name) == (view, "Big ones")


def test_the_picker_lists_the_crm_fields_with_their_types(staff, fake, make_connection):
    fake.add_field("Accounts", "Annual_Revenue", "Annual Revenue", "currency")
    make_connection()

    page = staff.get(reverse(CONFIGURE))

    form = page.context["form"]
    offered = dict(form.fields["accounts__payment_terms_days"].choices)
    assert "Payment Terms (Payment_Terms, integer)" == offered["Payment_Terms"]
    assert "Annual_Revenue" in dict(form.fields["accounts__custom"].choices)
    assert form.initial["accounts__display_name"] == "Account_Name"
    assert form["accounts__billing_address"].initial == [
        "Billing_Street", "Billing_City", "Billing_State", "Billing_Code", "Billing_Country"
    ]  # fmt: skip
    html = page.content.decode()
    assert 'id="mapping-accounts"' in html and "<textarea" not in html


def test_the_picker_refuses_a_field_of_the_wrong_type_and_saves_nothing(staff, fake, make_connection):
    fake.add_field("Accounts", "Annual_Revenue", "Annual Revenue", "currency")
    make_connection(field_mapping={"Accounts": [["Account_Name", "display_name"]]})

    response = staff.post(
        reverse(CONFIGURE),
        {**STEPS, "accounts__display_name": "Annual_Revenue", "accounts__phone": "Payment_Terms", "save_later": "1"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Annual_Revenue is a Zoho CRM field of type currency; it cannot feed Display name." in html
    assert "Payment_Terms is a Zoho CRM field of type integer; it cannot feed Phone." in html
    assert CrmConnection.current().field_mapping == {"Accounts": [["Account_Name", "display_name"]]}


def test_picked_fields_are_stored_as_mapping_pairs_and_custom_fields_keep_their_key(staff, fake, make_connection):
    make_connection(field_mapping={"Accounts": [["Account_Name", "display_name"], ["Customer_Tier", "custom:tier"]]})

    staff.post(
        reverse(CONFIGURE),
        {
            **STEPS,
            "accounts__display_name": "Account_Name",
            "accounts__email": "Email",
            "accounts__billing_address": ["Billing_City", "Billing_Street"],
            "accounts__payment_terms_days": "Payment_Terms",
            "accounts__custom": ["Customer_Tier", "Tax_Number"],
            "save_later": "1",
        },
    )

    assert CrmConnection.current().field_mapping == {
        "Accounts": [
            ["Account_Name", "display_name"],
            ["Email", "email"],
            ["Billing_Street", "billing_address"],  # in Zoho's field order, street first
            ["Billing_City", "billing_address"],
            ["Payment_Terms", "payment_terms_days"],
            ["Customer_Tier", "custom:tier"],
            ["Tax_Number", "custom:tax_number"],
        ]
    }


def test_the_service_refuses_a_type_mismatch_too(make_connection, fake):
    make_connection()
    fields = {
        "Accounts": [{"api_name": "Account_Name", "data_type": "text"}, {"api_name": "Amount", "data_type": "currency"}]
    }

    with pytest.raises(ValidationError) as refused:
        configure_sync(
            module="accounts",
            include_orphan_contacts=False,
            direction="fetch",
            duplicate_policy="skip",
            account_view=None,
            contact_view=None,
            field_mapping={"Accounts": [["Account_Name", "display_name"], ["Amount", "notes"]]},
            crm_fields=fields,
            sync_now=False,
        )

    assert refused.value.code == "type_mismatch"


def test_saving_a_both_ways_sync_creates_the_receivables_fields_in_the_crm(staff, fake, make_connection):
    make_connection()

    response = staff.post(reverse(CONFIGURE), {**STEPS, **NAME, "direction": "both", "save_later": "1"})

    assert response.status_code == 302
    created = [api for api, *_rest in fake.created_fields["Accounts"]]
    assert created == ["Outstanding_Receivables", "Overdue_Amount", "Unused_Credits", "Sales_This_Year"]


def test_staff_map_a_receivables_figure_to_an_existing_currency_field(staff, fake, make_connection):
    fake.add_field("Accounts", "Open_Balance", "Open Balance", "currency")
    make_connection()

    page = staff.get(reverse(CONFIGURE))
    response = staff.post(
        reverse(CONFIGURE),
        {
            **STEPS,
            **NAME,
            "direction": "both",
            "receivables__outstanding_receivables": "Open_Balance",
            "save_later": "1",
        },
    )

    offered = dict(page.context["form"].fields["receivables__outstanding_receivables"].choices)
    assert "Open Balance (Open_Balance, currency)" == offered["Open_Balance"]
    assert "Description" not in offered  # a text field cannot hold an amount
    assert 'id="mapping-receivables"' in page.content.decode()
    assert response.status_code == 302
    assert CrmConnection.current().receivable_field_mapping == {"outstanding_receivables": "Open_Balance"}
    created = [api for api, *_rest in fake.created_fields["Accounts"]]
    assert created == ["Overdue_Amount", "Unused_Credits", "Sales_This_Year"]


def test_one_field_cannot_hold_two_receivables_figures_and_nothing_is_saved(staff, fake, make_connection):
    fake.add_field("Accounts", "Open_Balance", "Open Balance", "currency")
    make_connection()

    response = staff.post(
        reverse(CONFIGURE),
        {
            **STEPS,
            **NAME,
            "direction": "both",
            "receivables__outstanding_receivables": "Open_Balance",
            "receivables__overdue_amount": "Open_Balance",
            "save_later": "1",
        },
    )

    assert response.status_code == 200
    assert "Open_Balance already holds Outstanding receivables." in response.content.decode()
    connection = CrmConnection.current()
    assert connection.receivable_field_mapping == {} and connection.direction == "fetch"
    assert "Accounts" not in fake.created_fields


def test_receivables_fields_that_cannot_be_created_are_a_warning_naming_the_scope(staff, fake, make_connection):
    make_connection()
    _narrow_scopes(fake, "ZohoCRM.modules.ALL,ZohoCRM.settings.custom_views.READ,ZohoCRM.org.READ")

    response = staff.post(reverse(CONFIGURE), {**STEPS, **NAME, "direction": "both", "save_later": "1"}, follow=True)

    warnings = [str(m) for m in response.context["messages"]]
    assert any("Outstanding_Receivables" in w and "ZohoCRM.settings.fields.ALL" in w for w in warnings)
    assert CrmConnection.current().direction == "both"
