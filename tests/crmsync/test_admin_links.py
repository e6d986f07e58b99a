"""The invoice and sales order pages of the back office lead to the CRM potentials page."""

import pytest
from django.urls import reverse

from tests.factories import DealLinkFactory, InvoiceFactory, SalesOrderFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


def test_an_invoice_page_links_to_its_crm_potential(staff_client):
    invoice = InvoiceFactory()
    DealLinkFactory(invoice=invoice, crm_id="D-1", crm_name="Q4 network refresh")

    page = staff_client.get(reverse("admin:billing_invoice_change", args=[invoice.pk])).content.decode()

    assert reverse("admin:crmsync_deals", args=["invoice", invoice.pk]) in page
    assert "CRM potential: Q4 network refresh" in page


def test_a_sales_order_page_offers_to_link_a_crm_potential(staff_client):
    order = SalesOrderFactory()

    page = staff_client.get(reverse("admin:billing_salesorder_change", args=[order.pk])).content.decode()

    assert reverse("admin:crmsync_deals", args=["salesorder", order.pk]) in page
    assert "Link a CRM potential" in page


def test_a_payment_page_has_no_crm_potential_link(staff_client):
    from tests.factories import PaymentFactory

    payment = PaymentFactory()

    page = staff_client.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    assert "/admin/crmsync/crmconnection/deals/" not in page


def test_the_new_invoice_page_offers_to_find_the_customer_in_the_crm(staff_client):
    page = staff_client.get(reverse("admin:billing_invoice_add")).content.decode()

    assert reverse("admin:crmsync_search") in page
