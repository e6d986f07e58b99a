"""Group insights: per group, members, sales against the period before, owed at the period's end, days to pay
and discount; each group opens to its members; sales by group per month; the page staff use."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from billing.services import LineInput, create_invoice, send_invoice
from reports.selectors.groups import chart_months, group_insights, previous_period
from reports.selectors.hierarchy import NO_GROUP
from tests.factories import CustomerFactory, CustomerGroupFactory

from .ledger import invoice, northwind, pay

pytestmark = pytest.mark.django_db

GROUPS = reverse("admin:reports_groups")
D = Decimal
# 1 February to 30 April 2026 (89 days) against the 89 days before: 4 November 2025 to 31 January 2026.
PERIOD = {"start": date(2026, 2, 1), "end": date(2026, 4, 30)}


def _rows(insights) -> dict:
    return {row.name: row.figures for row in insights.rows}


def test_the_period_before_has_the_same_number_of_days():
    assert previous_period(date(2026, 2, 1), date(2026, 4, 30)) == (date(2025, 11, 4), date(2026, 1, 31))
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (date(2026, 1, 29), date(2026, 2, 28))
    assert previous_period(date(2026, 3, 5), date(2026, 3, 5)) == (date(2026, 3, 4), date(2026, 3, 4))
    assert chart_months(date(2026, 4, 30)) == [date(2025, m, 1) for m in range(5, 13)] + [
        date(2026, m, 1) for m in range(1, 5)]


def test_the_northwind_story_per_group():
    northwind()
    CustomerGroupFactory(name="Direct")  # a group nobody is in yet

    insights = group_insights(currency="USD", **PERIOD)

    assert [row.name for row in insights.rows] == ["Direct", "Enterprise", "Resellers", "No group"]
    rows = _rows(insights)
    enterprise, resellers, nobody = rows["Enterprise"], rows["Resellers"], rows["No group"]
    assert (enterprise.members, resellers.members, nobody.members) == (2, 2, 1)  # HQ, Boston / Austin, Denver / Solo
    # Sales: Boston's 250 of 10 Feb; before: HQ's 1,000 and Boston's 400 of 10 January.
    assert (enterprise.sales, enterprise.previous_sales, enterprise.invoices) == (D("250.00"), D("1400.00"), 1)
    assert round(enterprise.change_percent, 1) == D("-82.1")  # (250 − 1,400) / 1,400
    # Austin's 300 and Denver's 800 of 10 February; nothing before, so no change to show.
    assert (resellers.sales, resellers.previous_sales) == (D("1100.00"), D("0"))
    assert resellers.change_percent is None
    # Solo's 90 of 10 March was voided: not a sale. Its 60 of 10 January is the previous period's.
    assert (nobody.sales, nobody.previous_sales, nobody.change_percent) == (D("0"), D("60.00"), D("-100"))
    # Owed at the end of 30 April: HQ's 400 left of January (due 9 Feb); Boston's February 250 was paid 2 April.
    assert (enterprise.outstanding, enterprise.overdue) == (D("400.00"), D("400.00"))
    # Austin's 100 reopened by the refund of 20 March (due 25 Feb); Denver's 800 (the credit came in December).
    assert (resellers.outstanding, resellers.overdue) == (D("900.00"), D("900.00"))
    # Solo's 60 (due 9 Feb) and the 90 of 10 March, due 9 April and voided only in December.
    assert (nobody.outstanding, nobody.overdue) == (D("150.00"), D("150.00"))
    # Paid off in the period: Boston's January 400 on 5 March (54 days), its February 250 on 2 April (51 days).
    # Austin's was paid on 1 March but owed 100 again at the period's end after the refund: not paid off.
    assert (enterprise.paid_invoices, enterprise.days_to_pay, enterprise.average_days_to_pay) == (2, 105, D("52.5"))
    assert resellers.average_days_to_pay is None and nobody.average_days_to_pay is None
    assert enterprise.discount == resellers.discount == D("0")
    direct = rows["Direct"]
    assert (direct.members, direct.sales, direct.previous_sales, direct.outstanding) == (0, 0, 0, 0)
    assert direct.change_percent is None and direct.average_days_to_pay is None
    totals = insights.totals
    assert (totals.members, totals.sales, totals.previous_sales, totals.outstanding) == (
        5, D("1350.00"), D("1460.00"), D("1450.00"))
    assert totals.average_days_to_pay == D("52.5")


def test_days_to_pay_as_the_ledger_stood_at_the_period_end():
    story = northwind()

    march = group_insights(currency="USD", start=date(2026, 3, 1), end=date(2026, 3, 19))
    april = group_insights(currency="USD", start=date(2026, 4, 1), end=date(2026, 4, 30))

    # Before the refund of 20 March, Austin's invoice was paid off on 1 March: 19 days after 10 February.
    assert (_rows(march)["Resellers"].paid_invoices, _rows(march)["Resellers"].days_to_pay) == (1, 19)
    assert (_rows(march)["Enterprise"].paid_invoices, _rows(march)["Enterprise"].days_to_pay) == (1, 54)
    # April: Boston's February invoice only (10 Feb -> 2 Apr).
    assert _rows(april)["Enterprise"].average_days_to_pay == D("51")
    assert story.austin.pk  # the story is the one of the aging tests


def test_a_group_opens_to_its_members_with_the_same_figures():
    story = northwind()
    enterprise = story.hq.group

    members = group_insights(currency="USD", group=enterprise.pk, **PERIOD)
    nobody = group_insights(currency="USD", group=NO_GROUP, **PERIOD)

    assert members.by_member and members.group == (enterprise.pk, "Enterprise")
    rows = _rows(members)
    assert set(rows) == {"Northwind HQ", "Northwind Boston"}
    hq, boston = rows["Northwind HQ"], rows["Northwind Boston"]
    assert (hq.sales, hq.previous_sales, hq.outstanding, hq.paid_invoices) == (D("0"), D("1000.00"), D("400.00"), 0)
    assert (boston.sales, boston.previous_sales, boston.outstanding, boston.days_to_pay) == (
        D("250.00"), D("400.00"), D("0"), 105)
    assert members.totals.sales == D("250.00") and members.totals.previous_sales == D("1400.00")
    assert members.totals.average_days_to_pay == D("52.5")
    assert [row.name for row in nobody.rows] == ["Solo Traders"]
    assert [name for name, _amounts in members.monthly.series] == ["Enterprise"]


def test_discount_given_is_the_line_discounts_of_the_period_sales():
    group = CustomerGroupFactory(name="Resellers", discount_percent=D("10"))
    customer = CustomerFactory(group=group)

    def discounted(on, lines):
        return send_invoice(invoice=create_invoice(customer=customer, issued_on=on, due_on=on + timedelta(days=30),
                                                   lines=lines))

    # 3 × 200 at 12.5 % off: 75 off; 1 × 99.99 at the group's 10 %: 10.00 off (99.99 − 89.99 rounded half up).
    discounted(date(2026, 3, 2), [LineInput(description="Seats", quantity=D("3"), rate=D("200.00"),
                                            discount_percent=D("12.5")),
                                  LineInput(description="Setup", rate=D("99.99"))])
    discounted(date(2026, 2, 27), [LineInput(description="Before", rate=D("100.00"))])  # previous period: 10 off

    figures = _rows(group_insights(currency="USD", start=date(2026, 3, 1), end=date(2026, 3, 31)))["Resellers"]

    assert figures.discount == D("85.00")
    assert figures.sales == D("525.00") + D("89.99")


def test_sales_by_group_per_month():
    northwind()

    monthly = group_insights(currency="USD", **PERIOD).monthly

    assert monthly.months[0] == date(2025, 5, 1) and monthly.months[-1] == date(2026, 4, 1)
    series = dict(monthly.series)
    assert list(series) == ["Enterprise", "Resellers", "No group"]
    jan, feb, mar = (monthly.months.index(date(2026, m, 1)) for m in (1, 2, 3))
    assert (series["Enterprise"][jan], series["Enterprise"][feb]) == (D("1400.00"), D("250.00"))
    assert series["Resellers"][feb] == D("1100.00")
    assert (series["No group"][jan], series["No group"][mar]) == (D("60.00"), D("0"))  # March's 90 was voided
    assert sum(monthly.totals) == D("2810.00")


# --- the page -------------------------------------------------------------------------------------


def _query(**extra) -> dict:
    return {"start": "2026-02-01", "end": "2026-04-30", **extra}


def test_the_page_shows_each_group_its_charts_and_tables(staff):
    story = northwind()
    CustomerGroupFactory(name="Direct")

    response = staff.get(GROUPS, _query())

    assert response.status_code == 200
    html = response.content.decode()
    assert "Enterprise" in html and "−82.1 %" not in html and "-82.1 %" in html
    assert "$1,100.00" in html and "52.5" in html
    assert html.count("<svg class=\"report-chart\"") == 2  # owed per group, and sales by group per month
    assert "Enterprise, Feb 2026: $250.00" in html  # a column's tooltip
    assert "Resellers: Overdue $900.00" in html  # a bar's tooltip
    direct = next(row for row in response.context["table"].rows if row.name == "Direct")
    assert direct.cells == ["0", "$0.00", "$0.00", "—", "$0.00", "$0.00", "—", "$0.00"]
    assert "Average days to pay" in html and "last application" in html  # the definition under the table
    assert f"group={story.hq.group.pk}" in html

    members = staff.get(GROUPS, _query(group=story.hq.group.pk))

    assert members.status_code == 200
    assert "Northwind Boston" in members.content.decode()
    assert members.context["table"].columns[0][0] == "Customer"


def test_the_default_period_is_this_month_so_far(staff):
    with time_machine.travel(date(2026, 3, 20), tick=False):
        response = staff.get(GROUPS)

    assert response.status_code == 200
    insights = response.context["insights"]
    assert (insights.start, insights.end) == (date(2026, 3, 1), date(2026, 3, 20))
    assert (insights.previous_start, insights.previous_end) == (date(2026, 2, 9), date(2026, 2, 28))


def test_the_csv_of_each_table(staff):
    northwind()
    CustomerGroupFactory(name="=cmd|' /C calc'!A0")

    response = staff.get(GROUPS, _query(format="csv"))
    months = staff.get(GROUPS, _query(format="months-csv"))

    assert 'filename="group-insights-2026-02-01-2026-04-30.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Group,Members,Sales,Previous period sales,Change %,Invoices,Outstanding,Overdue")
    assert lines[1].startswith("'=cmd")  # a formula stays text
    assert lines[2].startswith("Enterprise,2,250.00,1400.00,-82.1,1,400.00,400.00,2,52.5,0.00,USD,2026-02-01")
    assert lines[3].startswith("Resellers,2,1100.00,0.00,,2,900.00,900.00,0,,0.00,USD")
    assert lines[-1].startswith("Total,5,1350.00,1460.00,")
    assert 'filename="sales-by-group-per-month-to-2026-04-30.csv"' in months["Content-Disposition"]
    month_lines = b"".join(months.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert month_lines[0] == "Month,Enterprise,Resellers,No group,Total,Currency"
    assert "2026-02,250.00,1100.00,0.00,1350.00,USD" in month_lines
    assert len(month_lines) == 13


def test_the_pdf_prints_the_table_in_the_documents_style(staff):
    northwind()

    response = staff.get(GROUPS, _query(format="pdf"))

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="group-insights-2026-02-01-2026-04-30.pdf"' in response["Content-Disposition"]
    text = _pdf_text(response.content)
    assert "GROUP INSIGHTS" in text and "1 Feb 2026 to 30 Apr 2026, compared with 4 Nov 2025 to 31 Jan 2026" in text
    assert "Enterprise 2 $250.00 $1,400.00 -82.1 % $400.00 $400.00 52.5 $0.00" in text
    assert "Total 5 $1,350.00 $1,460.00" in text


def _pdf_text(content: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_the_query_count_does_not_grow_with_members_or_invoices(staff, django_assert_max_num_queries):
    def group_of(members: int):
        group = CustomerGroupFactory()
        for _n in range(members):
            customer = CustomerFactory(group=group)
            paid = invoice(customer, date(2026, 3, 1), "10.00")
            invoice(customer, date(2026, 2, 1), "20.00")
            pay(customer, date(2026, 3, 5), "10.00", {paid: "10.00"})
        return group

    small = group_of(2)
    staff.get(GROUPS, _query())  # session, permissions and content types warm
    with django_assert_max_num_queries(16) as top_queries:
        staff.get(GROUPS, _query())
    with django_assert_max_num_queries(16) as small_queries:
        staff.get(GROUPS, _query(group=small.pk))
    big = group_of(30)
    with django_assert_max_num_queries(len(top_queries)):
        top = staff.get(GROUPS, _query())
    with django_assert_max_num_queries(len(small_queries)):
        response = staff.get(GROUPS, _query(group=big.pk))
    assert len(response.context["insights"].rows) == 30
    assert _rows(top.context["insights"])[big.name].paid_invoices == 30
