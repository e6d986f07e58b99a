"""Every back-office document form takes the customer's effective rate, discount and terms when staff
leave the field empty, and keeps what staff type (an explicit 0 included).

The incident: the invoice line form pre-filled "Discount %" with 0, the browser posted it back as an
explicit "no discount", and a Partners customer (2% group discount) was billed $399.00, not $391.02.
"""

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from billing.models import CreditNote, Invoice, SalesOrder, Subscription
from billing.services import generate_due_subscription_invoices
from tests.factories import CustomerFactory, CustomerGroupFactory, ItemFactory, StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_PRICE = Decimal("399.00")
PARTNER_PRICE = Decimal("391.02")  # 399.00 − 2%


@pytest.fixture
def partner():
    return CustomerFactory(
        display_name="Contoso Partner", group=CustomerGroupFactory(name="Partners", discount_percent=Decimal("2.00"))
    )


@pytest.fixture
def router():
    return ItemFactory(name="Edge router", rate=LIST_PRICE)


def _input(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no input {name}"
    return match.group(0)


def _item_select(page: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert match, f"no select {name}"
    return match.group(0)


def _starts_empty_saying_group_default(page: str, name: str) -> None:
    field = _input(page, name)
    assert 'value="' not in field or 'value=""' in field, field
    assert "group default" in field, field


def _invoice_form(customer, item, discount: str) -> dict:
    return {
        "customer": customer.pk,
        "issued_on": "2026-03-02",
        "due_on": "",
        "reference": "",
        "allow_partial_payments": "on",
        "notes": "",
        "terms": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-item": item.pk,
        "lines-0-description": "",
        "lines-0-quantity": "1",
        "lines-0-rate": "",
        "lines-0-discount_percent": discount,
        "lines-0-tax_percent": "",
        **{
            f"{prefix}-{k}": v
            for prefix in ("allocations", "credit_applications", "retainers_applied")
            for k, v in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }


def _rows(*rows) -> dict:
    data = {"rows": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"line-{i}-{k}": v for k, v in row.items()})
    return data


def test_invoice_lines_take_the_group_discount_when_left_empty_and_keep_a_typed_zero(staff, partner, router):
    page = staff.get(reverse("admin:billing_invoice_add")).content.decode()

    empty = staff.post(reverse("admin:billing_invoice_add"), _invoice_form(partner, router, ""))
    zero = staff.post(reverse("admin:billing_invoice_add"), _invoice_form(partner, router, "0"))

    _starts_empty_saying_group_default(page, "lines-0-discount_percent")
    assert "js/admin/effective_terms.js" in page
    assert (empty.status_code, zero.status_code) == (302, 302)
    first, second = Invoice.objects.order_by("pk")
    assert (first.total, first.lines.get().discount_percent) == (PARTNER_PRICE, Decimal("2.00"))
    assert (second.total, second.lines.get().discount_percent) == (LIST_PRICE, Decimal("0.00"))


def test_a_draft_invoices_new_line_starts_empty_with_the_customers_discount_as_placeholder(staff, partner, router):
    staff.post(reverse("admin:billing_invoice_add"), _invoice_form(partner, router, ""))
    invoice = Invoice.objects.get()

    page = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()

    extra = _input(page, "lines-1-discount_percent")
    assert 'value="' not in extra or 'value=""' in extra
    assert 'placeholder="2.00 (group default)"' in extra
    for row in ("lines-0-item", "lines-1-item"):
        select = _item_select(page, row)
        assert f'data-customer="{partner.pk}"' in select
        assert f'data-effective-url="{reverse("admin:billing_effective_terms")}"' in select


def test_sales_order_lines_take_the_group_discount_when_left_empty_and_keep_a_typed_zero(staff, partner, router):
    page = staff.get(reverse("admin:billing_salesorder_create")).content.decode()
    form = {
        "customer": partner.pk,
        "ordered_on": "2026-03-02",
        "expected_shipment_on": "",
        "reference": "",
        "notes": "",
        "_save": "Save draft",
    }

    empty = staff.post(
        reverse("admin:billing_salesorder_create"),
        {**form, **_rows({"item": router.pk, "quantity": "1", "discount_percent": ""})},
    )
    zero = staff.post(
        reverse("admin:billing_salesorder_create"),
        {**form, **_rows({"item": router.pk, "quantity": "1", "discount_percent": "0"})},
    )

    _starts_empty_saying_group_default(page, "line-0-discount_percent")
    assert "js/admin/effective_terms.js" in page
    assert 'data-rate-field="rate"' in _item_select(page, "line-0-item")
    assert (empty.status_code, zero.status_code) == (302, 302)
    assert [order.total for order in SalesOrder.objects.order_by("pk")] == [PARTNER_PRICE, LIST_PRICE]


def test_credit_note_lines_take_the_group_discount_when_left_empty_and_keep_a_typed_zero(staff, partner, router):
    page = staff.get(reverse("admin:billing_creditnote_create")).content.decode()
    form = {"customer": partner.pk, "issued_on": "2026-03-09", "reason": "Returned"}

    empty = staff.post(
        reverse("admin:billing_creditnote_create"),
        {**form, **_rows({"item": router.pk, "quantity": "1", "discount_percent": ""})},
    )
    zero = staff.post(
        reverse("admin:billing_creditnote_create"),
        {**form, **_rows({"item": router.pk, "quantity": "1", "discount_percent": "0"})},
    )

    _starts_empty_saying_group_default(page, "line-0-discount_percent")
    assert (empty.status_code, zero.status_code) == (302, 302)
    assert [note.total for note in CreditNote.objects.order_by("pk")] == [PARTNER_PRICE, LIST_PRICE]


def _subscription_form(customer, item, *, price: str, discount: str) -> dict:
    return {
        "customer": customer.pk,
        "plan_name": "Managed router",
        "item": item.pk,
        "quantity": "1",
        "price": price,
        "discount_percent": discount,
        "currency": customer.currency,
        "billing_period": Subscription.Period.MONTHLY,
        "starts_on": "2026-03-01",
        "next_billing_on": "2026-03-01",
        "ends_on": "",
        "status": Subscription.Status.LIVE,
        "_invoices-TOTAL_FORMS": "0",
        "invoices-TOTAL_FORMS": "0",
        "invoices-INITIAL_FORMS": "0",
    }


def test_subscriptions_bill_the_effective_price_and_discount_when_left_empty_and_keep_typed_ones(
    staff, partner, router
):
    page = staff.get(reverse("admin:billing_subscription_add")).content.decode()

    responses = [
        staff.post(reverse("admin:billing_subscription_add"), _subscription_form(partner, router, **typed))
        for typed in ({"price": "", "discount": ""}, {"price": "", "discount": "0"}, {"price": "350", "discount": ""})
    ]
    invoices = generate_due_subscription_invoices(today=date(2026, 3, 1))

    _starts_empty_saying_group_default(page, "discount_percent")
    assert "js/admin/effective_terms.js" in page
    assert 'data-rate-field="price"' in _item_select(page, "item")
    assert [r.status_code for r in responses] == [302, 302, 302]
    assert sorted(inv.total for inv in invoices) == [Decimal("343.00"), PARTNER_PRICE, LIST_PRICE]  # 350 − 2%


def test_a_subscription_without_an_item_needs_a_price(staff, partner):
    form = {**_subscription_form(partner, ItemFactory(), price="", discount=""), "item": ""}

    response = staff.post(reverse("admin:billing_subscription_add"), form)

    assert response.status_code == 200
    assert "Enter a price, or choose an item" in response.content.decode()
    assert not Subscription.objects.exists()


# The staff-only endpoint the forms' script asks as soon as an item is picked


def test_the_effective_terms_endpoint_gives_the_customers_rate_discount_and_terms(staff, partner, router):
    response = staff.get(reverse("admin:billing_effective_terms"), {"customer": partner.pk, "item": router.pk})

    data = json.loads(response.content)
    assert response.status_code == 200
    assert (data["rate"], data["discount_percent"], data["discount_source"]) == ("399.00", "2.00", "group")
    assert data["net_rate_shown"] == "$391.02"
    assert isinstance(data["payment_terms_days"], int)
    assert "$391.02" in data["summary"]


@pytest.mark.parametrize(
    ("query", "status"),
    [({"customer": "abc"}, 400), ({"customer": "1e3"}, 400), ({}, 400), ({"customer": "999999"}, 404)],
)
def test_the_effective_terms_endpoint_refuses_malformed_or_unknown_ids(staff, query, status):
    assert staff.get(reverse("admin:billing_effective_terms"), query).status_code == status


def test_the_effective_terms_endpoint_is_not_for_customers_or_staff_without_the_permission(client, partner, router):
    url = reverse("admin:billing_effective_terms")
    query = {"customer": partner.pk, "item": router.pk}

    client.force_login(UserFactory())
    portal_user = client.get(url, query)
    bare_staff = StaffUserFactory(is_superuser=False)
    client.force_login(bare_staff)
    without_permission = client.get(url, query)
    bare_staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(bare_staff)
    with_permission = client.get(url, query)

    assert portal_user.status_code == 302 and "/login/" in portal_user["Location"]
    assert without_permission.status_code == 403
    assert with_permission.status_code == 200
