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
