"""The invoice list's date drill-down read through the date's index (billing/admin/dates.py): the same years,
months and days, with the same links, as Django's own, under the list's filters; without Django's scan of
every row. Timings at 200,000 invoices: bench/admin_search.py ("invoice list, no search")."""

import datetime as dt
import re

import pytest
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.admin.dates import distinct_periods, indexed_date_hierarchy
from billing.models import Invoice
from tests.factories import CustomerFactory, CustomerGroupFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

INVOICES = reverse("admin:billing_invoice_changelist")
RETAINERS = reverse("admin:billing_retainerinvoice_changelist")


@pytest.fixture
def invoices():
    resellers = CustomerGroupFactory(name="Resellers")
    reseller = CustomerFactory(group=resellers)
    for day in (dt.date(2024, 3, 5), dt.date(2024, 3, 20), dt.date(2024, 11, 2)):
        InvoiceFactory(customer=reseller, issued_on=day, due_on=day)
    for day in (dt.date(2026, 1, 15), dt.date(2026, 1, 16), dt.date(2026, 1, 16)):
        InvoiceFactory(issued_on=day, due_on=day)
    InvoiceFactory(issued_on=dt.date(2025, 6, 1), due_on=dt.date(2025, 6, 1), is_retainer=True)  # not listed here
    return resellers


def _choices(html: str) -> list[str]:
    return re.findall(r'<a href="\?[^"]*">([^<]+)</a>', html.split('class="toplinks"')[1].split("</nav>")[0])


@pytest.mark.parametrize(
    "query, shown",
    [
        ("", ["2024", "2026"]),
        ("issued_on__year=2024", ["March 2024", "November 2024"]),
        ("issued_on__year=2024&issued_on__month=3", ["March 5", "March 20"]),
        ("issued_on__year=2026", ["January 2026"]),
        ("group", ["March 2024", "November 2024"]),  # one year left under the filter: its months, as Django does
    ],
)
def test_the_drill_down_is_djangos_under_every_filter(staff, invoices, query, shown):
    if query == "group":
        query = f"customer__group__id__exact={invoices.pk}"

    response = staff.get(f"{INVOICES}?{query}")

    changelist = response.context["cl"]
    assert response.status_code == 200
    assert _choices(response.content.decode()) == shown
    assert indexed_date_hierarchy(changelist) == date_hierarchy(changelist)


def test_the_list_reads_its_years_through_the_index_not_every_row(staff, invoices):
    with CaptureQueriesContext(connection) as queries:
        staff.get(INVOICES)

    sql = [query["sql"] for query in queries.captured_queries]
    assert not any("DISTINCT DATE_TRUNC" in statement for statement in sql)
    assert sum("WITH RECURSIVE found" in statement for statement in sql) == 1


def test_the_retainer_list_keeps_djangos_drill_down(staff, invoices):
    """Its invoices have no index on the date alone: one scan beats a probe per year that reads the table."""
    with CaptureQueriesContext(connection) as queries:
        response = staff.get(RETAINERS)

    assert _choices(response.content.decode()) == ["June 1"]  # one retainer: its month, as Django does
    assert not any("WITH RECURSIVE found" in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_distinct_periods_are_what_djangos_dates_returns(invoices, kind):
    queryset = Invoice.objects.filter(is_retainer=False)

    assert distinct_periods(queryset, "issued_on", kind) == list(queryset.dates("issued_on", kind))
    assert distinct_periods(queryset.none(), "issued_on", kind) == []
