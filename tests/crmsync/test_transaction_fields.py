"""Staff switch transactions on in the set-up page; the CRM fields the push needs are created then (or
staff are told which field is missing and which scope would let billing create it)."""

import pytest
from django.urls import reverse

from billing.models import Customer
from crmsync.models import CrmConnection, SyncFailure, SyncRun
from crmsync.services import sync_crm
from tests.factories import InvoiceFactory, StaffUserFactory

CONFIGURE = "admin:crmsync_configure"
OVERVIEW = "admin:crmsync_crmconnection_changelist"
STEPS = {"module": "accounts", "direction": "fetch", "duplicate_policy": "skip", "account_view": "", "contact_view": ""}


@pytest.fixture
def staff(client, db):
    client.force_login(StaffUserFactory())
    return client


def _edit(staff, **changes):
    form = staff.get(reverse(CONFIGURE)).context["form"]
    picks = {name: value for name, value in form.initial.items() if "__" in name}
    return staff.post(reverse(CONFIGURE), {**STEPS, **picks, "save_later": "1", **changes}, follow=True)


def _created(fake):
    return {(module, api_name) for module, fields in fake.created_fields.items() for api_name, *_rest in fields}


def test_staff_switch_transactions_on_and_the_crm_fields_are_created(staff, fake, make_connection):
    make_connection()

    page = staff.get(reverse(CONFIGURE)).content.decode()
    response = _edit(staff, push_transactions="on")

    assert "Invoices and sales orders reach Zoho CRM&#x27;s Invoices and Sales_Orders modules within seconds" in page
    assert CrmConnection.current().push_transactions
    assert _created(fake) == {
        ("Invoices", "Billing_Document_Id"),
        ("Invoices", "Balance_Due"),
        ("Sales_Orders", "Billing_Document_Id"),
        ("Products", "Billing_Item_Id"),
    }
    assert fake.unique_fields == {
        "Invoices": {"Billing_Document_Id"},
        "Sales_Orders": {"Billing_Document_Id"},
        "Products": {"Billing_Item_Id"},
    }
    assert "pushed to Zoho CRM's Invoices and Sales_Orders as they change" in response.content.decode()

    _edit(staff)  # the box left unticked

    assert not CrmConnection.current().push_transactions
    assert "Not pushed to Zoho CRM" in staff.get(reverse(OVERVIEW)).content.decode()


def test_fields_that_exist_are_not_created_again(staff, fake, make_connection):
    make_connection()
    _edit(staff, push_transactions="on")
    fake.reset_log()

    _edit(staff, push_transactions="on")

    assert not [p for m, p, _q in fake.requests if m == "POST" and p.endswith("settings/fields")]


def test_without_the_scope_to_create_fields_staff_read_which_field_and_scope_and_nothing_is_pushed(
    staff, fake, make_connection
):
    fake.add_account("Acme")
    make_connection()
    fake.scopes = "ZohoCRM.modules.ALL,ZohoCRM.settings.fields.READ,ZohoCRM.settings.custom_views.READ"
    fake.expire_tokens()

    response = _edit(staff, push_transactions="on")

    messages = [str(m) for m in response.context["messages"]]
    [invoices] = [m for m in messages if "Invoices module lacks" in m]
    assert "Billing_Document_Id" in invoices and "Balance_Due" in invoices
    assert "without the ZohoCRM.settings.fields.ALL scope" in invoices
    assert "Do not allow duplicate values" in invoices
    assert any("Products module lacks Billing_Item_Id" in m for m in messages)
    assert fake.created_fields == {}

    sync_crm(trigger=SyncRun.Trigger.INITIAL)
    InvoiceFactory(customer=Customer.objects.get(display_name="Acme"))
    run = sync_crm(trigger=SyncRun.Trigger.SCHEDULED)

    notes = dict(SyncFailure.objects.filter(run=run).values_list("record_name", "reason"))
    assert set(notes) == {"Invoices fields", "Sales_Orders fields", "Products fields"}
    assert "ZohoCRM.settings.fields.ALL" in notes["Invoices fields"]
    assert run.documents_pushed == 0 and fake.records["Invoices"] == {}
