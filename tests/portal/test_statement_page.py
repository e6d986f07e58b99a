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

    brought_forward = re.search(r"<em>Brought forward</em>.*?<td class=\"num\">([^<]+)</td></tr>", html, re.S)
    rows = re.findall(r"<tr><td class=\"nowrap\">[^<]+</td><td>[^<]+ ([^< ]+)</td>", html)
    assert len(full.lines) == 180 and full.opening_balance == Decimal("99.99")
    assert brought_forward.group(1) == money(full.lines[99].balance, full.currency)
    assert rows == [line.number for line in full.lines[100:]]
    assert "101–180 of 180" in html  # the private branch is not visible: its 60 invoices are left out
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
