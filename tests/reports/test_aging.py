"""Receivables aging: figures as the ledger stood on any day, rolled up per hierarchy, and the page staff use."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from billing.models import AccountBalance, Customer
from billing.selectors import visible_customers
from portal.balances import balance_breakdown
from reports.selectors.aging import DEFAULT_BUCKET_EDGES, aging_report, buckets_for, invoice_amounts_owed
from reports.selectors.hierarchy import NO_GROUP
from tests.factories import ContactPersonFactory, CustomerFactory

from .ledger import invoice, northwind, owed_naively

pytestmark = pytest.mark.django_db

AGING = reverse("admin:reports_aging")
D = Decimal


def _bucket(as_of: date, due_on: date, edges=DEFAULT_BUCKET_EDGES) -> int:
    days = (as_of - due_on).days
    for index, bucket in enumerate(buckets_for(edges)):
        if bucket.high is None or days <= bucket.high:
            return index
    raise AssertionError


def _naive_by_bucket(as_of: date, edges=DEFAULT_BUCKET_EDGES) -> dict[int, list[Decimal]]:
    size = len(buckets_for(edges))
    result = {}
    for customer_id, rows in owed_naively(as_of=as_of).items():
        amounts = [D("0.00")] * size
        for due_on, amount in rows:
            amounts[_bucket(as_of, due_on, edges)] += amount
        result[customer_id] = amounts
    return result


@pytest.mark.parametrize("as_of", [date(2026, 1, 31), date(2026, 2, 25), date(2026, 3, 3), date(2026, 3, 15),
                                   date(2026, 3, 25), date(2026, 4, 1), date(2026, 4, 2), date(2026, 11, 30)])
def test_each_customer_owed_what_its_dated_rows_say_on_that_day(as_of):
    northwind()

    report = invoice_amounts_owed(as_of=as_of, currency="USD")

    assert {pk: f.amounts for pk, f in report.items()} == _naive_by_bucket(as_of)


def test_the_story_read_on_15_march():
    story = northwind()

    owed = invoice_amounts_owed(as_of=date(2026, 3, 15), currency="USD")

    # HQ's January invoice (due 9 Feb): 400 left, 34 days overdue.
    assert owed[story.hq.pk].amounts == [D("0"), D("0"), D("0"), D("400.00"), D("0")]
    # Boston: January paid by the parent on 5 March; February's 250 due 12 March was paid only on 2 April.
    assert owed[story.boston.pk].amounts == [D("0"), D("250.00"), D("0"), D("0"), D("0")]
    # Austin's refund of 20 March had not happened yet: nothing owed.
    assert story.austin.pk not in owed
    # Denver: 800 due 12 March; the 50 credit note of 2 March was applied only today.
    assert owed[story.denver.pk].amounts == [D("0"), D("800.00"), D("0"), D("0"), D("0")]
    # Solo: the January 60 (due 9 Feb, 34 days) and the March 90, voided only today, current on 15 March.
    assert owed[story.solo.pk].amounts == [D("90.00"), D("0"), D("0"), D("60.00"), D("0")]


def test_todays_report_reconciles_with_the_kept_balances_and_the_portal():
    story = northwind()

    report = aging_report(as_of=timezone.localdate(), currency="USD")

    kept = AccountBalance.objects.aggregate(total=Sum("outstanding_invoices"))["total"]
    assert report.totals.total == kept == D("1310.00")  # HQ 400, Austin 100 (refunded), Denver 750, Solo 60
    hq_row = next(r for r in report.rows if r.customer_id == story.hq.pk)
    assert hq_row.consolidated and hq_row.branches == 3
    # The portal's head office sees every branch open to it; Denver is private, so the staff figure is larger by
    # exactly Denver's own.
    contact = ContactPersonFactory(customer=story.hq)
    portal_total = balance_breakdown(customers=visible_customers(user=contact.user), page_number=1).total
    denver = invoice_amounts_owed(as_of=timezone.localdate(), currency="USD")[story.denver.pk].total
    assert hq_row.figures.total == portal_total.outstanding_invoices + denver


def test_a_hierarchy_opens_to_its_branches_and_adds_up():
    story = northwind()
    today = timezone.localdate()

    top = aging_report(as_of=today, currency="USD")
    branches = aging_report(as_of=today, currency="USD", parent_id=story.hq.pk)

    hq_row = next(r for r in top.rows if r.customer_id == story.hq.pk)
    assert branches.totals.total == hq_row.figures.total
    assert branches.own.customer_id == story.hq.pk and not branches.own.consolidated
    assert {r.name for r in branches.rows} == {"Northwind Austin", "Northwind Denver"}  # Boston owes nothing
    assert branches.hidden == 1
    assert branches.trail == [(story.hq.pk, "Northwind HQ")]


def test_a_group_lists_its_members_own_invoices_only():
    story = northwind()
    today = timezone.localdate()
    resellers = story.austin.group

    report = aging_report(as_of=today, currency="USD", group=resellers.pk)
    nobody = aging_report(as_of=today, currency="USD", group=NO_GROUP)

    assert {r.customer_id for r in report.rows} == {story.austin.pk, story.denver.pk}
    assert not any(r.consolidated for r in report.rows)
    assert [r.customer_id for r in nobody.rows] == [story.solo.pk]


def test_bucket_edges_fall_where_a_person_expects():
    customer = CustomerFactory()
    as_of = date(2026, 6, 30)
    for days_overdue, amount in ((0, "1.00"), (1, "2.00"), (15, "4.00"), (16, "8.00"), (45, "16.00"), (46, "32.00")):
        due = as_of - timedelta(days=days_overdue)
        invoice(customer, due - timedelta(days=30), amount)

    owed = invoice_amounts_owed(as_of=as_of, currency=customer.currency)[customer.pk]
    custom = invoice_amounts_owed(as_of=as_of, currency=customer.currency, edges=(1, 60))[customer.pk]

    assert owed.amounts == [D("1.00"), D("6.00"), D("8.00"), D("16.00"), D("32.00")]
    assert [b.label for b in buckets_for(DEFAULT_BUCKET_EDGES)] == [
        "Current", "1–15 days", "16–30 days", "31–45 days", "Over 45 days"]
    assert custom.amounts == [D("1.00"), D("2.00"), D("60.00"), D("0")]


def test_other_currencies_and_retainers_stay_out():
    euro = CustomerFactory(currency="EUR")
    invoice(euro, date(2026, 5, 1), "70.00")

    assert invoice_amounts_owed(as_of=date(2026, 6, 1), currency="USD") == {}
    assert invoice_amounts_owed(as_of=date(2026, 6, 1), currency="EUR")[euro.pk].total == D("70.00")


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_the_hierarchy_its_chart_and_totals(staff):
    story = northwind()

    response = staff.get(AGING, {"as_of": "2026-03-15"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "Northwind HQ" in html and "3 branches" in html
    assert "<svg" in html and "Northwind HQ: 31–45 days $400.00" in html  # the chart's tooltip
    report = response.context["report"]
    assert report.totals.total == D("1600.00")  # HQ 400, Boston 250, Denver 800, Solo 60 + 90
    branches = staff.get(AGING, {"as_of": "2026-03-15", "parent": story.hq.pk})
    assert "(own invoices)" in branches.content.decode()
    assert branches.context["report"].totals.total == D("1450.00")


def test_the_csv_holds_every_row_and_guards_formulas(staff):
    northwind()
    CustomerFactory(display_name="=HYPERLINK(\"http://evil\")")
    evil = Customer.objects.get(display_name__startswith="=")
    invoice(evil, date(2026, 3, 1), "5.00")

    response = staff.get(AGING, {"as_of": "2026-03-15", "format": "csv"})

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="receivables-aging-2026-03-15.csv"' in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Customer,Group,Figures,Branches,Current,1–15 days")
    assert any(line.startswith("'=HYPERLINK") or line.startswith("\"'=HYPERLINK") for line in lines)
    assert lines[-1].startswith("Total,") and ",1605.00," in lines[-1]


def test_an_empty_ledger_says_so(staff):
    response = staff.get(AGING)

    assert response.status_code == 200
    assert "Nobody owed anything" in response.content.decode()


def test_the_query_count_does_not_grow_with_the_branches(staff, django_assert_max_num_queries):
    def tree(branches: int):
        parent = CustomerFactory()
        for _n in range(branches):
            invoice(CustomerFactory(parent=parent), date(2026, 3, 1), "10.00")
        return parent

    small = tree(2)
    staff.get(AGING, {"parent": small.pk})  # session, permissions and content types warm
    with django_assert_max_num_queries(12) as small_queries:
        staff.get(AGING, {"parent": small.pk})
    big = tree(40)
    with django_assert_max_num_queries(len(small_queries)):
        response = staff.get(AGING, {"parent": big.pk})
    assert len(response.context["report"].rows) == 40


def test_the_pdf_prints_the_rows_and_totals_in_the_documents_style(staff):
    story = northwind()

    response = staff.get(AGING, {"as_of": "2026-03-15", "parent": story.hq.pk, "format": "pdf"})

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="receivables-aging-2026-03-15.pdf"' in response["Content-Disposition"]
    text = _pdf_text(response.content)
    assert "RECEIVABLES AGING" in text and "As of 15 Mar 2026" in text and "Northwind HQ" in text
    assert "Northwind HQ (own invoices)" in text and "Northwind Denver" in text
    assert "$1,450.00" in text  # the total of the head office's view


def _pdf_text(content: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_one_row_per_group_adds_up_its_members(staff):
    story = northwind()

    response = staff.get(AGING, {"as_of": "2026-03-15", "group": "groups"})

    rows = {r.name: r for r in response.context["report"].rows}
    assert rows["Enterprise"].figures.total == D("650.00") and rows["Enterprise"].members == 2  # HQ 400, Boston 250
    assert rows["Resellers"].figures.total == D("800.00")  # Denver; Austin owed nothing on 15 March
    assert rows["No group"].figures.total == D("150.00")
    assert response.context["report"].totals.total == D("1600.00")  # the same as by hierarchy
    members = staff.get(AGING, {"as_of": "2026-03-15", "group": rows["Resellers"].group_key})
    assert [r.customer_id for r in members.context["report"].rows] == [story.denver.pk]
