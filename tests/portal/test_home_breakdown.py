"""The home page's consolidated figures and per-account breakdown for a parent with more accounts than
one page shows: read from the kept account figures, equal to the figures computed from the documents."""

import re
from decimal import Decimal

import pytest

from billing.money import ZERO
from billing.selectors import balance_summary, customers_under
from billing.services import link_to_parent, record_payment
from portal.balances import balance_breakdown
from portal.selectors import visible_customers
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, RetainerInvoiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirty_branches(head_office):
    """29 more shared branches (30 accounts with the shared one, 31 with the head office), each owing
    a different amount; the private branch owes 1,000,000.00 that no total may include."""
    parent = head_office["parent"]
    for n in range(29):
        branch = CustomerFactory(display_name=f"Branch {n:02d}")
        link_to_parent(customer=branch, parent=parent)
        InvoiceFactory(customer=branch, total=Decimal(f"{n + 1}.01"))
    InvoiceFactory(customer=head_office["shared"], total=Decimal("500.00"))
    CreditNoteFactory(customer=head_office["shared"], total=Decimal("20.50"))
    RetainerInvoiceFactory(customer=parent, total=Decimal("75.00"))
    InvoiceFactory(customer=head_office["private"], total=Decimal("1000000.00"))
    record_payment(customer=parent, amount=Decimal("40.00"), paid_on=InvoiceFactory(customer=parent).issued_on,
                   method="bank_transfer")
    return head_office


def _rows(html: str) -> list[str]:
    return [name.strip() for name in re.findall(r'<tr>\s*<th scope="row">([^<]+)<', html)]


def test_the_total_covers_every_visible_account_and_equals_the_figures_from_the_documents(thirty_branches):
    user = thirty_branches["contact"].user
    expected = balance_summary(customers=customers_under(customer_id=thirty_branches["parent"].pk)).total

    summary = balance_breakdown(customers=visible_customers(user=user), page_number=1)

    assert summary.accounts == 31
    assert summary.total == expected
    assert summary.total.outstanding_invoices == sum((Decimal(f"{n + 1}.01") for n in range(29)), ZERO) + Decimal(
        "600.00")  # the branches', the shared branch's 500.00 and the head office's own 100.00
    assert summary.total.available_credits == Decimal("60.50")  # the credit note + the unapplied payment
    assert summary.total.outstanding_retainers == Decimal("75.00")
    assert [row.display_name for row in summary.page.object_list][:2] == ["Branch 00", "Branch 01"]
    assert len(summary.page.object_list) == 25


def test_the_second_page_lists_the_last_accounts_and_a_page_past_the_end_shows_the_last_page(
    client, thirty_branches
):
    client.force_login(thirty_branches["contact"].user)

    second = client.get("/?accounts=2").content.decode()
    past_the_end = client.get("/?accounts=99").content.decode()
    not_a_number = client.get("/?accounts=x").content.decode()

    assert _rows(second)[:6] == ["Branch 25", "Branch 26", "Branch 27", "Branch 28", "Head Office Ltd",
                                 "Shared Branch"]
    assert "Private Branch" not in second and "1,000,000.00" not in second
    assert _rows(past_the_end) == _rows(second)
    assert _rows(not_a_number)[0] == "Branch 00"
    assert "Total, all 31 accounts" in second
