"""Malformed URLs, filters, forms and action posts in the billing back office: never a 500.

A bookkeeper who edits a URL by hand, follows an old bookmark or double-submits a stale page
gets the list or the form back with a message, and nothing is written.
"""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import ContactPerson, Customer, CustomerGroup, Invoice, Payment
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db

HUGE_YEAR = "99999999999"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("invoice", f"issued_on__year={HUGE_YEAR}"),
        ("retainerinvoice", f"issued_on__year={HUGE_YEAR}"),
        ("payment", f"paid_on__year={HUGE_YEAR}&paid_on__month=1"),
    ],
)
def test_a_malformed_filter_shows_the_full_list_with_a_message_not_a_500(staff, model, query):
    CustomerFactory()
    changelist = reverse(f"admin:billing_{model}_changelist")

    response = staff.get(f"{changelist}?{query}", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == changelist
    assert "isn't valid" in " ".join(_messages(response))
    assert "database installation" not in response.content.decode()


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("customer", "group__id__exact=abc&customer_type__exact=bogus&has_parent=maybe&origin=x"),
        ("invoice", "status=bogus&customer__group__id__exact=abc&state=bogus"),
        ("invoice", "issued_on__gte=2026-13-45&o=bogus&p=abc"),
        ("payment", "paid_on__day=31&paid_on__month=2&paid_on__year=2026"),
        ("salesorder", "q=%E2%98%83" + "x" * 3000),
    ],
)
def test_a_filter_value_that_matches_nothing_or_cannot_apply_is_not_a_500(staff, model, query):
    response = staff.get(f"{reverse(f'admin:billing_{model}_changelist')}?{query}", follow=True)

    assert response.status_code == 200


@pytest.mark.parametrize(
    "model", ["customer", "contactperson", "item", "invoice", "payment", "creditnote", "salesorder", "subscription"]
)
def test_a_nul_byte_in_a_filter_is_a_bad_request_not_a_500(staff, model):
    response = staff.get(f"{reverse(f'admin:billing_{model}_changelist')}?status__exact=%00")

    assert response.status_code == 400


def test_a_nul_byte_in_an_autocomplete_search_is_a_bad_request_not_a_500(staff):
    CustomerFactory(display_name="Northwind")

    response = staff.get(
        reverse("admin:autocomplete"),
        {"term": "North\x00", "app_label": "billing", "model_name": "customer", "field_name": "parent"},
    )

    assert response.status_code == 400


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1"])
def test_a_customer_form_with_a_malformed_parent_group_or_price_list_is_refused_next_to_the_field(staff, bad_id):
    data = {
        "display_name": "Stray",
        "customer_type": "business",
        "currency": "USD",
        "parent": bad_id,
        "group": bad_id,
        "price_list": bad_id,
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }

    response = staff.post(reverse("admin:billing_customer_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert {"parent", "group", "price_list"} <= set(errors)
    assert not Customer.objects.filter(display_name="Stray").exists()


def test_a_contact_or_group_form_with_a_malformed_customer_or_price_list_is_refused_next_to_the_field(staff):
    contact = staff.post(reverse("admin:billing_contactperson_add"), {"customer": "abc", "first_name": "Jo"})
    group = staff.post(reverse("admin:billing_customergroup_add"), {"name": "Odd", "price_list": "abc"})

    assert contact.status_code == group.status_code == 200
    assert "customer" in contact.context["adminform"].form.errors
    assert "price_list" in group.context["adminform"].form.errors
    assert not ContactPerson.objects.exists() and not CustomerGroup.objects.exists()


@pytest.mark.parametrize(
    ("model", "action"),
    [
        ("customer", "add_to_group"),
        ("customer", "enable_portal_and_invite"),
        ("contactperson", "invite"),
        ("invoice", "void_selected"),
        ("invoice", "send_selected"),
    ],
)
def test_an_action_on_malformed_selected_ids_says_so_and_changes_nothing(staff, model, action):
    invoice = InvoiceFactory(total="40.00")
    PaymentFactory(customer=invoice.customer)
    changelist = reverse(f"admin:billing_{model}_changelist")

    response = staff.post(
        changelist, {"action": action, "index": "0", ACTION_CHECKBOX_NAME: ["abc", str(invoice.pk)]}, follow=True
    )

    assert response.status_code == 200
    assert "select them again" in " ".join(_messages(response))
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.SENT


# Money typed by staff: exotic notation or more digits than the column holds is the form's error.

EXOTIC_AMOUNTS = [
    ("1e26", "Enter an amount like 1,234.56."),
    ("9" * 400, "Enter an amount of at most $9,999,999,999,999,999.99."),
    ("1e3", "Enter an amount like 1,234.56."),
    ("NaN", "Enter an amount like 1,234.56."),
    ("Infinity", "Enter an amount like 1,234.56."),
    ("1.234", "Enter at most 2 decimals, like 1,234.56."),
    ("12,34", "Enter an amount like 1,234.56."),
]


def _refused_on_the_page(response, message):
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert "E+" not in page and "was requested" not in page


@pytest.mark.parametrize(("typed", "message"), EXOTIC_AMOUNTS)
def test_an_exotic_payment_amount_in_the_record_payment_page_is_a_form_error(staff, typed, message):
    invoice = InvoiceFactory(total=Decimal("60.00"))
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(url, {"amount": typed, "paid_on": "2026-03-05", "method": "cash"})

    _refused_on_the_page(response, message)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("typed", "message"), EXOTIC_AMOUNTS)
def test_an_exotic_allocation_in_the_record_payment_page_is_a_form_error(staff, typed, message):
    invoice = InvoiceFactory(total=Decimal("60.00"))
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(
        url, {"amount": "100.00", "paid_on": "2026-03-05", "method": "cash", f"alloc_{invoice.pk}": typed}
    )

    _refused_on_the_page(response, message)
    assert not Payment.objects.exists()


def test_minus_zero_as_a_payment_is_refused_as_zero(staff):
    invoice = InvoiceFactory(total=Decimal("60.00"))
    url = reverse("admin:billing_payment_record") + f"?customer={invoice.customer.pk}"

    response = staff.post(url, {"amount": "-0", "paid_on": "2026-03-05", "method": "cash"})

    assert response.status_code == 200
    assert "-$0.00" not in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(("typed", "message"), [*EXOTIC_AMOUNTS, ("-0", "above zero")])
def test_an_exotic_amount_when_applying_a_credit_note_is_a_form_error(staff, typed, message):
    invoice = InvoiceFactory(total=Decimal("80.00"))
    note = CreditNoteFactory(customer=invoice.customer, total=Decimal("30.00"))

    response = staff.post(
        reverse("admin:billing_creditnote_apply", args=[note.pk]), {"invoice": invoice.pk, "amount": typed}
    )

    _refused_on_the_page(response, message)
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("80.00")


@pytest.mark.parametrize(("typed", "message"), EXOTIC_AMOUNTS)
def test_an_exotic_refund_amount_is_a_form_error(staff, typed, message):
    payment = PaymentFactory(amount=Decimal("50.00"))

    response = staff.post(
        reverse("admin:billing_payment_refund", args=[payment.pk]),
        {"amount": typed, "method": "bank_transfer", "reference": ""},
    )

    _refused_on_the_page(response, message)
    assert not payment.refunds.exists()


@pytest.mark.parametrize("typed", ["1e26", "NaN", "9" * 400])
def test_an_exotic_amount_in_a_changelist_filter_is_not_a_500(staff, typed):
    response = staff.get(reverse("admin:billing_invoice_changelist"), {"total__gte": typed}, follow=True)

    assert response.status_code in (200, 400)
