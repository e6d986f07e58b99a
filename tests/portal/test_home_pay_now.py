"""Home's Pay Now sits with the figure it pays: the whole outstanding amount of invoices."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.factories import ContactPersonFactory, CustomerFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def _stat(page: str, title: str) -> str:
    """The HTML of one balance card, found by its title."""
    match = re.search(rf'<div class="stat[^"]*"><dt>{title}</dt>(.*?)</div>', page, re.S)
    assert match, f"no card titled {title}"
    return match.group(1)


def test_pay_now_is_on_the_outstanding_invoices_card_of_a_parent_with_branches(client):
    contact = ContactPersonFactory()
    branch = CustomerFactory(parent=contact.customer, allow_parent_access=True)
    InvoiceFactory(customer=contact.customer, total=Decimal("100.00"))
    InvoiceFactory(customer=branch, total=Decimal("250.25"))
    client.force_login(contact.user)

    page = client.get(reverse("portal:home")).content.decode()

    outstanding = _stat(page, "Outstanding invoices")
    assert "$350.25" in outstanding
    assert f'href="{reverse("portal:pay-outstanding")}"' in outstanding
    assert "Pay Now" not in _stat(page, "Balance payable")


def test_a_customer_who_owes_nothing_sees_nothing_to_pay_instead_of_pay_now(client):
    contact = ContactPersonFactory()
    client.force_login(contact.user)

    page = client.get(reverse("portal:home")).content.decode()

    assert "Nothing to pay" in _stat(page, "Outstanding invoices")
    assert reverse("portal:pay-outstanding") not in page
