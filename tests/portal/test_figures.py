"""The figures each list shows, for a head office (its own rows plus the shared branch's, never the
private branch's) and for a single customer (the shared branch's own contact: its rows only)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.factories import ContactPersonFactory

pytestmark = pytest.mark.django_db


def _invoice_rows(html: str) -> list[tuple[str, str, str]]:
    """(number, amount, balance due) per row of the invoice table."""
    return re.findall(
        r'<a href="/invoices/\d+/">([^<]+)</a>.*?<td class="num hide-sm">([^<]+)</td>\s*<td class="num">([^<]+)</td>',
        html, re.S)


def _payment_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a href="/payments/\d+/">([^<]+)</a>.*?<td class="num">([^<]+)</td></tr>', html, re.S)


@pytest.fixture
def single_customer(head_office):
    """A contact of the shared branch: a customer of its own, with no branches."""
    return ContactPersonFactory(customer=head_office["shared"])


def test_the_head_office_invoice_list_has_its_and_the_shared_branch_invoices_with_their_balances(
    client, head_office, ledger
):
    client.force_login(head_office["contact"].user)

    html = client.get("/invoices/?sort=number").content.decode()

    assert _invoice_rows(html) == [
        ("HQ-INV-1", "$300.00", "$300.00"),
        ("HQ-INV-2", "$50.00", "$0.00"),
        ("SH-INV-1", "$200.00", "$200.00"),
        ("SH-INV-2", "$50.00", "$0.00"),
    ]
    assert '<th scope="col" class="hide-sm">Account</th>' in html
    assert "4 items" in html


def test_a_single_customer_invoice_list_has_only_its_own_invoices_and_no_account_column(
    client, single_customer, ledger
):
    client.force_login(single_customer.user)

    html = client.get("/invoices/?sort=number").content.decode()
    unpaid = client.get("/invoices/?status=unpaid").content.decode()

    assert _invoice_rows(html) == [("SH-INV-1", "$200.00", "$200.00"), ("SH-INV-2", "$50.00", "$0.00")]
    assert "Account</th>" not in html
    assert _invoice_rows(unpaid) == [("SH-INV-1", "$200.00", "$200.00")]


def test_the_head_office_payments_list_has_both_accounts_payments_and_a_single_customer_only_its_own(
    client, head_office, single_customer, ledger
):
    client.force_login(head_office["contact"].user)
    parent = client.get("/payments/?sort=amount").content.decode()
    client.force_login(single_customer.user)
    single = client.get("/payments/").content.decode()

    assert sorted(_payment_rows(parent)) == [("HQ-PAY-1", "$50.00"), ("SH-PAY-1", "$50.00")]
    assert _payment_rows(single) == [("SH-PAY-1", "$50.00")]
    assert "SECRET" not in parent + single


def test_statement_balances_for_the_head_office_consolidated_and_for_a_single_customer(
    client, head_office, single_customer, ledger
):
    # every document is dated today: invoices 300 + 50 and 200 + 50, payments 50 + 50, credit notes 10 + 10
    today = timezone.localdate()
    period = f"/statement/?period=custom&start={today:%Y-%m-%d}&end={today:%Y-%m-%d}"
    later = today + dt.timedelta(days=1)
    after = f"/statement/?period=custom&start={later:%Y-%m-%d}&end={later:%Y-%m-%d}"
    client.force_login(head_office["contact"].user)
    parent, parent_after = client.get(period).content.decode(), client.get(after).content.decode()
    client.force_login(single_customer.user)
    single = client.get(period).content.decode()

    assert re.search(r"<dt>Opening balance</dt><dd>\$0.00</dd>", parent)
    assert 'data-figure="closing_balance">$480.00<' in parent
    assert re.search(r"<dt>Opening balance</dt><dd>\$480.00</dd>", parent_after)
    assert 'data-figure="closing_balance">$480.00<' in parent_after
    assert re.search(r"<dt>Opening balance</dt><dd>\$0.00</dd>", single)
    assert 'data-figure="closing_balance">$190.00<' in single
    assert "Per account" in parent and "Per account" not in single
