"""What the CRM integration adds to billing's back-office pages (through billing.admin.extensions):
the links of a customer or contact person, filters and search over them, and the invoice and sales
order pages leading to the CRM potentials page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Customer
from billing.services import convert_sales_order_to_invoice
from crmsync.models import CrmLink
from crmsync.selectors import deal_link
from tests.factories import (
    ContactPersonFactory,
    CrmLinkFactory,
    CustomerFactory,
    DealLinkFactory,
    InvoiceFactory,
    SalesOrderFactory,
    SalesOrderLineFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_an_invoice_page_links_to_its_crm_potential(staff):
    invoice = InvoiceFactory()
    DealLinkFactory(invoice=invoice, crm_id="D-1", crm_name="Q4 network refresh")

    page = staff.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()

    assert reverse("admin:crmsync_deals", args=["invoice", invoice.pk]) in page
    assert "CRM potential: Q4 network refresh" in page


def test_a_sales_order_page_offers_to_link_a_crm_potential(staff):
    order = SalesOrderFactory()

    page = staff.get(reverse("admin:billing_salesorder_change", args=[order.pk])).content.decode()

    assert reverse("admin:crmsync_deals", args=["salesorder", order.pk]) in page
    assert "Link a CRM potential" in page


def test_a_payment_page_has_no_crm_potential_link(staff):
    from tests.factories import PaymentFactory

    payment = PaymentFactory()

    page = staff.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    assert "/admin/crmsync/crmconnection/deals/" not in page


def test_the_new_invoice_page_offers_to_find_the_customer_in_the_crm(staff):
    page = staff.get(reverse("admin:billing_invoice_add")).content.decode()

    assert reverse("admin:crmsync_search") in page


CUSTOMERS = reverse("admin:billing_customer_changelist")


@pytest.fixture
def linked_and_not():
    linked = CrmLinkFactory(customer=CustomerFactory(display_name="Linked Co"), crm_id="4150001").customer
    gone = CustomerFactory(display_name="Gone Co")
    CrmLinkFactory(
        customer=gone,
        crm_id="4150002",
        unlinked_at=timezone.now(),
        unlinked_reason="Deleted in Zoho CRM on 2026-12-01; kept in billing because it has transactions.",
    )
    CustomerFactory(display_name="Local Co")
    return linked, gone


def _listed(response) -> list[str]:
    assert response.status_code == 200
    return sorted(c.display_name for c in response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"crm_link": "linked"}, ["Linked Co"]),
        ({"crm_link": "unlinked"}, ["Gone Co"]),
        ({"crm_link": "never"}, ["Local Co"]),
        ({"q": "4150001"}, ["Linked Co"]),
        ({"q": "4150002"}, ["Gone Co"]),  # an unlinked customer is still found by the id it had
        ({"q": "Local"}, ["Local Co"]),  # billing's own search still works
    ],
)
def test_the_customer_list_filters_by_crm_link_and_finds_a_crm_id(staff, linked_and_not, query, expected):
    assert _listed(staff.get(CUSTOMERS, query)) == expected


def test_a_customer_page_shows_its_crm_link_and_why_it_was_unlinked(staff, linked_and_not):
    linked, gone = linked_and_not

    linked_page = staff.get(reverse("admin:billing_customer_change", args=[linked.pk])).content.decode()
    gone_page = staff.get(reverse("admin:billing_customer_change", args=[gone.pk])).content.decode()

    assert "Zoho CRM" in linked_page and "4150001" in linked_page and "Linked" in linked_page
    assert "4150002" in gone_page and "kept in billing because it has transactions" in gone_page


def test_a_customer_change_posts_nothing_for_the_crm_panel(staff, linked_and_not):
    linked, _gone = linked_and_not
    data = {
        "display_name": "Linked Co renamed", "company_name": "", "customer_type": "business", "currency": "USD",
        "allow_parent_access": "on", "contacts-TOTAL_FORMS": "0", "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
    }  # fmt: skip

    response = staff.post(reverse("admin:billing_customer_change", args=[linked.pk]), data)

    assert response.status_code == 302
    assert Customer.objects.get(pk=linked.pk).display_name == "Linked Co renamed"
    assert CrmLink.objects.get(customer=linked).crm_id == "4150001"


def test_a_contact_person_page_shows_its_crm_link(staff):
    person = ContactPersonFactory(user=UserFactory())
    CrmLinkFactory(
        customer=None,
        contact_person=person,
        module=CrmLink.Module.CONTACTS,
        crm_id="4150009",
        unlinked_at=timezone.now(),
        unlinked_reason="Deleted in Zoho CRM on 2026-12-01; contact person kept because it has a portal login.",
    )

    page = staff.get(reverse("admin:billing_contactperson_change", args=[person.pk])).content.decode()

    assert "4150009" in page and "it has a portal login" in page


def test_invoices_filter_by_potential_and_are_found_by_its_name(staff):
    with_deal = InvoiceFactory(number="INV-10001")
    DealLinkFactory(invoice=with_deal, crm_name="Q4 network refresh")
    InvoiceFactory(number="INV-10002")
    changelist = reverse("admin:billing_invoice_changelist")

    def numbers(query):
        return sorted(i.number for i in staff.get(changelist, query).context["cl"].result_list)

    assert numbers({"crm_deal": "yes"}) == ["INV-10001"]
    assert numbers({"crm_deal": "no"}) == ["INV-10002"]
    assert numbers({"q": "network refresh"}) == ["INV-10001"]


def test_sales_orders_are_found_by_their_potential(staff):
    order = SalesOrderFactory(number="SO-10001")
    DealLinkFactory(sales_order=order, crm_name="Rollout")
    SalesOrderFactory(number="SO-10002")

    listed = staff.get(reverse("admin:billing_salesorder_changelist"), {"q": "rollout"})

    assert [o.number for o in listed.context["cl"].result_list] == ["SO-10001"]


def test_an_invoice_made_from_a_sales_order_keeps_its_potential():
    order = SalesOrderFactory(status="confirmed")
    SalesOrderLineFactory(sales_order=order, quantity=Decimal("2"), rate=Decimal("10.00"), amount=Decimal("20.00"))
    DealLinkFactory(sales_order=order, crm_id="4150077", crm_name="Rollout")

    invoice = convert_sales_order_to_invoice(sales_order=order, issued_on=dt.date(2026, 12, 1))

    link = deal_link(invoice)
    assert (link.crm_id, link.crm_name) == ("4150077", "Rollout")
    assert deal_link(order).crm_id == "4150077"  # the order keeps it too
