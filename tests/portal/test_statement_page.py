"""The statement page shows a page of the statement `statement(...)` computes (the PDF's), read in SQL."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.selectors import statement
from portal.selectors import visible_customers
from portal.templatetags.portal import money
from tests.factories import InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def test_the_second_page_opens_with_the_balance_after_the_first_pages_last_line(client, head_office):
    today = timezone.localdate()
    for i in range(60):
        for customer in (head_office["parent"], head_office["shared"], head_office["private"]):
            InvoiceFactory(customer=customer, issued_on=today - dt.timedelta(days=i % 20), total=Decimal(f"{i}.25"))
        PaymentFactory(customer=head_office["shared"], paid_on=today - dt.timedelta(days=i % 20), amount=Decimal("7"))
    InvoiceFactory(customer=head_office["parent"], issued_on=today - dt.timedelta(days=40), total=Decimal("99.99"))
    start = today - dt.timedelta(days=30)
    client.force_login(head_office["contact"].user)
    full = statement(customers=visible_customers(user=head_office["contact"].user), start=start, end=today)

    html = client.get(f"/statement/?period=custom&start={start:%Y-%m-%d}&end={today:%Y-%m-%d}&page=2").content.decode()

    brought_forward = re.search(r"<em>Brought forward</em>.*?<td>([^<]+)</td></tr>", html, re.S)
    rows = re.findall(r"<tr><td>[^<]+</td><td>[^<]+ ([^< ]+)</td>", html)
    assert len(full.lines) == 180 and full.opening_balance == Decimal("99.99")
    assert brought_forward.group(1) == money(full.lines[49].balance, full.currency)
    assert rows == [line.number for line in full.lines[50:100]]
    assert "51–100 of 180" in html  # the private branch is not visible: its 60 invoices are left out
    assert f'data-figure="closing_balance">{money(full.closing_balance, full.currency)}<' in html


@pytest.mark.parametrize("path", ["/statement/?period=this_year", "/statement/pdf/?period=this_year"])
def test_the_statement_walks_the_customer_tree_once(client, head_office, path):
    InvoiceFactory(customer=head_office["shared"])
    client.force_login(head_office["contact"].user)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)

    assert response.status_code == 200
    assert len([q for q in queries if "WITH RECURSIVE" in q["sql"]]) == 1


def test_statement_lines_give_the_due_date_as_the_portal_writes_dates(client, head_office):
    invoice = InvoiceFactory(customer=head_office["shared"], issued_on=dt.date(2026, 7, 28),
                             due_on=dt.date(2026, 9, 6), reference="PO-7")
    client.force_login(head_office["contact"].user)
    full = statement(customers=visible_customers(user=head_office["contact"].user),
                     start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30))

    html = client.get("/statement/?period=custom&start=2026-07-01&end=2026-09-30").content.decode()

    wording = f"Invoice {invoice.number}, due 6 Sep 2026 (ref. PO-7)"
    assert [line.description for line in full.lines] == [wording]  # the PDF's lines
    assert wording in html


def _per_account_rows(html: str) -> dict[str, dict[str, str]]:
    """The per-account table as {account: {column heading: figure}}, read from the page."""
    table = html.split('<table class="per-account">', 1)[1].split("</table>", 1)[0]
    headings = re.findall(r'<th scope="col">([^<]+)</th>', table)
    rows = {}
    for name, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S):
        rows[name] = dict(zip(headings[1:], re.findall(r"<td[^>]*>([^<]*)</td>", cells), strict=True))
    return rows


def test_the_per_account_table_says_what_each_account_invoiced_paid_and_paid_for_another(client, head_office):
    """The head office pays its branch's invoice: that is no invoice of the head office's and no payment of
    the branch's, but money between the two, which the table shows as such and the totals cancel."""
    from billing.services import record_payment

    parent, shared = head_office["parent"], head_office["shared"]
    today = timezone.localdate()
    InvoiceFactory(customer=parent, issued_on=today, total=Decimal("1560.00"))
    branch_invoice = InvoiceFactory(customer=shared, issued_on=today, total=Decimal("920.00"))
    InvoiceFactory(customer=head_office["private"], issued_on=today, total=Decimal("700.00"))
    record_payment(customer=parent, amount=Decimal("920.00"), paid_on=today, method="cheque", reference="CHQ-1",
                   allocations={branch_invoice.pk: Decimal("920.00")})
    client.force_login(head_office["contact"].user)

    html = client.get("/statement/?period=this_month").content.decode()

    rows = _per_account_rows(html)
    assert rows["Head Office Ltd"] == {"Opening": "$0.00", "Invoiced": "$1,560.00", "Paid": "−$920.00",
                                       "From other accounts": "$0.00", "To other accounts": "$920.00",
                                       "Closing": "$1,560.00"}
    assert rows["Shared Branch"] == {"Opening": "$0.00", "Invoiced": "$920.00", "Paid": "$0.00",
                                     "From other accounts": "−$920.00", "To other accounts": "$0.00",
                                     "Closing": "$0.00"}
    assert rows["Total"] == {"Opening": "$0.00", "Invoiced": "$2,480.00", "Paid": "−$920.00",
                             "From other accounts": "−$920.00", "To other accounts": "$920.00",
                             "Closing": "$1,560.00"}
    assert "Private Branch" not in rows and "$700.00" not in html
    assert "cancels out in the consolidated list: $920.00 in this period" in html
    assert f'data-figure="closing_balance">{money(Decimal("1560.00"), "USD")}<' in html


@pytest.fixture
def many_branches(head_office):
    """More branches than the account list shows: the account is typed by name."""
    from portal.forms import StatementForm
    from tests.factories import CustomerFactory

    CustomerFactory.create_batch(StatementForm.ACCOUNT_LIST_MAX, parent=head_office["parent"],
                                 allow_parent_access=True)
    boston = CustomerFactory(display_name="Northwind Boston", parent=head_office["parent"], allow_parent_access=True)
    CustomerFactory(display_name="Northwind Chicago", parent=head_office["parent"], allow_parent_access=True)
    InvoiceFactory(customer=boston, number="BOS-1", issued_on=timezone.localdate(), total=Decimal("42.00"))
    InvoiceFactory(customer=head_office["shared"], number="SH-1", issued_on=timezone.localdate())
    return boston


def test_past_the_account_list_the_account_is_typed_and_its_statement_shown(client, head_office, many_branches):
    client.force_login(head_office["contact"].user)

    html = client.get("/statement/?period=this_month&account=boston").content.decode()

    assert not re.search(r'<select[^>]* name="branch"', html) and 'name="account"' in html
    assert "BOS-1" in html and "SH-1" not in html
    assert 'value="Northwind Boston"' not in html  # the field keeps what was typed
    assert "Consolidated" not in html and "Northwind Boston" in html


def test_a_typed_name_several_accounts_share_lists_them_as_links_and_shows_nothing_else(
    client, head_office, many_branches
):
    client.force_login(head_office["contact"].user)

    response = client.get("/statement/?period=this_month&account=northwind&page=3")

    html = response.content.decode()
    links = re.findall(r'<li><a href="\?([^"]+)">([^<]+)</a></li>', html)
    assert response.status_code == 400
    assert "2 accounts match “northwind”: choose one below" in html
    assert [name for _query, name in links] == ["Northwind Boston", "Northwind Chicago"]
    assert links[0][0] == f"period=this_month&amp;branch={many_branches.pk}"
    assert "BOS-1" not in html


def test_a_link_to_one_account_fills_the_typed_field_with_its_name(client, head_office, many_branches):
    client.force_login(head_office["contact"].user)

    html = client.get(f"/statement/?period=this_month&branch={many_branches.pk}").content.decode()

    assert 'value="Northwind Boston"' in html and "BOS-1" in html and "SH-1" not in html


def test_a_typed_name_no_visible_account_has_is_refused(client, head_office, many_branches):
    client.force_login(head_office["contact"].user)

    response = client.get("/statement/?period=this_month&account=Private Branch")

    assert response.status_code == 400
    assert "No account matches “Private Branch”." in response.content.decode()


def test_the_account_suggestions_name_visible_accounts_only(client, head_office, many_branches):
    client.force_login(head_office["contact"].user)

    found = client.get("/accounts/suggestions/?q=BRANCH").json()

    assert found == {"accounts": ["Shared Branch"]}  # not the private branch
    assert client.get("/accounts/suggestions/?q=").json() == {"accounts": []}


@pytest.mark.parametrize("period", ["custom&start=2026-07-01&end=2026-09-30", "this_month"])
def test_the_statement_page_costs_as_many_queries_for_a_thousand_accounts_as_for_one(
    client, django_assert_max_num_queries, period
):
    """Measured on one branch with one invoice, asserted on a head office with 60 branches of 4 invoices and
    payments (past the account list: the typed account field), for whole months and for a month to date."""
    from billing.services import link_to_parent
    from tests.factories import AllocationFactory, ContactPersonFactory, CustomerFactory

    def tree(branches: int, invoices: int):
        contact = ContactPersonFactory()
        for _ in range(branches):
            branch = CustomerFactory()
            link_to_parent(customer=branch, parent=contact.customer)
            for k in range(invoices):
                on = dt.date(2026, 7 + k % 3, 3 + k) if "custom" in period else timezone.localdate()
                invoice = InvoiceFactory(customer=branch, issued_on=on, total=Decimal("20.00"))
                payment = PaymentFactory(customer=contact.customer, paid_on=on, amount=Decimal("5.00"),
                                         unallocated=Decimal("0.00"))
                AllocationFactory(payment=payment, invoice=invoice, amount=Decimal("5.00"))
        client.force_login(contact.user)
        assert client.get(f"/statement/?period={period}").status_code == 200

    tree(1, 1)
    with CaptureQueriesContext(connection) as small:
        client.get(f"/statement/?period={period}")
    one_branch = len(small)  # now: the next request clears Django's query log
    tree(60, 4)

    with django_assert_max_num_queries(one_branch):
        response = client.get(f"/statement/?period={period}&page=2&accounts=2")

    assert response.status_code == 200 and "Per account" in response.content.decode()
