import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import ContactPersonFactory, CustomerFactory, InvoiceFactory


@pytest.fixture
def head_office():
    """A head-office contact whose company has two branches open to it, each owing one invoice."""
    contact = ContactPersonFactory(customer__display_name="Northwind HQ", customer__allow_ach=True)
    hq = contact.customer
    east = CustomerFactory(display_name="Northwind East", parent=hq, allow_parent_access=True)
    west = CustomerFactory(display_name="Northwind West", parent=hq, allow_parent_access=True)
    today = timezone.localdate()
    east_invoice = InvoiceFactory(customer=east, total=Decimal("120.00"), due_on=today + datetime.timedelta(days=5))
    west_invoice = InvoiceFactory(customer=west, total=Decimal("80.50"), due_on=today + datetime.timedelta(days=9))
    return dict(contact=contact, hq=hq, east=east, west=west, east_invoice=east_invoice, west_invoice=west_invoice)


@pytest.fixture(autouse=True)
def _ledger_stays_consistent():
    """After every test here, each kept account row equals the figures recomputed from the documents."""
    yield
    from billing.selectors.ledger_check import ledger_problems

    assert ledger_problems() == []
