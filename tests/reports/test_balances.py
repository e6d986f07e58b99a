"""Customer balances for a period: the statement's own figures, per customer, per hierarchy and per group."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Customer
from billing.selectors.statements import statement
from reports.selectors.aging import aging_report
from reports.selectors.balances import balances_report
from reports.selectors.hierarchy import NO_GROUP
from tests.factories import CustomerFactory

from .ledger import invoice, northwind, pay

pytestmark = pytest.mark.django_db

BALANCES = reverse("admin:reports_balances")
D = Decimal
PERIODS = [
    (date(2026, 1, 1), date(2026, 1, 31)),
    (date(2026, 2, 15), date(2026, 3, 14)),
    (date(2026, 3, 1), date(2026, 3, 31)),
    (date(2026, 1, 11), date(2026, 4, 2)),
    (date(2026, 4, 1), date(2026, 4, 30)),
]


def _adds_up(figures) -> bool:
    return (
        figures.opening_balance
        + figures.invoiced
        + figures.refunded
        + figures.transferred_out
        - figures.paid
        - figures.credited
        - figures.transferred_in
    ) == figures.closing_balance


def _subtree(pk: int) -> list[int]:
    ids, todo = [], [pk]
    while todo:
        ids.append(todo.pop())
        todo.extend(Customer.objects.filter(parent_id=ids[-1]).values_list("pk", flat=True))
    return ids


def _consolidated(pk: int, start: date, end: date) -> tuple:
    """The portal statement's consolidated figures for the customer and everything under it."""
    full = statement(customers=Customer.objects.filter(pk__in=_subtree(pk)), start=start, end=end)
    return full.opening_balance, full.total_debits, full.total_credits, full.closing_balance


def _row_figures(row) -> tuple:
    f = row.figures
    return f.opening_balance, f.total_debits, f.total_credits, f.closing_balance


@pytest.mark.parametrize("start, end", PERIODS)
def test_every_row_adds_up_and_is_the_statement_of_its_customers(start, end):
    story = northwind()

    levels = [
        balances_report(start=start, end=end, currency="USD"),
        balances_report(start=start, end=end, currency="USD", parent_id=story.hq.pk),
        balances_report(start=start, end=end, currency="USD", group=story.austin.group_id),
    ]

    for report in levels:
        rows = ([report.own] if report.own else []) + report.rows
        for row in rows:
            assert _adds_up(row.figures), row
            if row.consolidated:
                assert _row_figures(row) == _consolidated(row.customer_id, start, end), row.name
            else:
                own = statement(customers=Customer.objects.filter(pk=row.customer_id), start=start, end=end)
                assert row.figures == own.accounts[0], row.name
        assert _adds_up(report.totals)
        assert report.totals.closing_balance == sum((r.figures.closing_balance for r in rows), D(0))


def test_the_hierarchy_nets_what_the_parent_paid_for_a_branch():
    story = northwind()
    march = dict(start=date(2026, 3, 1), end=date(2026, 3, 31), currency="USD")

    top = balances_report(**march)
    branches = balances_report(**march, parent_id=story.hq.pk)

    hq = next(r for r in top.rows if r.customer_id == story.hq.pk)
    assert hq.consolidated and hq.branches == 3
    # HQ paid Boston's January invoice on 5 March: inside the hierarchy, so on neither side of its row
    assert (hq.figures.transferred_in, hq.figures.transferred_out) == (D("0.00"), D("0.00"))
    assert branches.own.figures.transferred_out == D("400.00")
    boston = next(r for r in branches.rows if r.customer_id == story.boston.pk)
    assert boston.figures.transferred_in == D("400.00") and not boston.consolidated
    assert branches.trail == [(story.hq.pk, "Northwind HQ")]
    # March: HQ received 400, Austin 300 and refunded 100, Denver's 50 credit note
    assert (hq.figures.paid, hq.figures.refunded, hq.figures.credited) == (D("700.00"), D("100.00"), D("50.00"))
    assert hq.figures.closing_balance == branches.totals.closing_balance


def test_a_transfer_is_netted_only_in_the_subtrees_that_hold_both_accounts():
    grand = CustomerFactory(display_name="Grand")
    middle = CustomerFactory(display_name="Middle", parent=grand)
    leaf = CustomerFactory(display_name="Leaf", parent=middle)
    bill = invoice(leaf, date(2026, 5, 4), "120.00")
    pay(grand, date(2026, 5, 10), "120.00", {bill: "120.00"})
    may = dict(start=date(2026, 5, 1), end=date(2026, 5, 31), currency="USD")

    (top,) = balances_report(**may).rows
    (under_grand,) = balances_report(**may, parent_id=grand.pk).rows

    assert top.figures.transferred_in == top.figures.transferred_out == D("0.00")
    assert top.figures.closing_balance == D("0.00")
    # Middle and Leaf together received Grand's money from outside their subtree
    assert under_grand.customer_id == middle.pk and under_grand.figures.transferred_in == D("120.00")
    assert _row_figures(under_grand) == _consolidated(middle.pk, may["start"], may["end"])


def test_a_group_lists_its_members_own_accounts():
    story = northwind()

    report = balances_report(start=date(2026, 1, 1), end=date(2026, 3, 31), currency="USD", group=story.boston.group_id)
    nobody = balances_report(start=date(2026, 1, 1), end=date(2026, 3, 31), currency="USD", group=NO_GROUP)

    assert {r.customer_id for r in report.rows} == {story.hq.pk, story.boston.pk}
    assert not any(r.consolidated for r in report.rows)
    hq = next(r for r in report.rows if r.customer_id == story.hq.pk)
    assert hq.figures.transferred_out == D("400.00")  # a group is no hierarchy: nothing is netted
    assert [r.customer_id for r in nobody.rows] == [story.solo.pk]


def test_the_closing_balance_is_what_the_aging_report_ages_once_every_payment_and_credit_is_applied():
    northwind()
    end = timezone.localdate()  # every payment and credit note is applied, the void invoice is void

    closing = balances_report(start=date(2026, 1, 1), end=end, currency="USD").totals.closing_balance

    assert closing == aging_report(as_of=end, currency="USD").totals.total == D("1310.00")


def test_before_money_is_applied_the_closing_balance_differs_from_the_aging_by_that_money():
    northwind()
    end = date(2026, 3, 15)

    closing = balances_report(start=date(2026, 1, 1), end=end, currency="USD").totals.closing_balance
    aged = aging_report(as_of=end, currency="USD").totals.total

    # The statement counts a payment when it is received and a credit note when it is issued, the aging an
    # invoice's balance once they are applied to it: Boston's 250 received on 28 February (applied 2 April),
    # Denver's 50 credit note (applied today). And a void invoice is no statement movement at any date, while
    # the aging counts Solo's 90 as owed until the day it was voided (today).
    assert aged - closing == D("250.00") + D("50.00") + D("90.00")


def test_other_currencies_stay_out():
    euro = CustomerFactory(currency="EUR", display_name="Euro Ltd")
    invoice(euro, date(2026, 5, 1), "70.00")
    period = dict(start=date(2026, 5, 1), end=date(2026, 5, 31))

    assert balances_report(**period, currency="USD").rows == []
    (row,) = balances_report(**period, currency="EUR").rows
    assert row.figures.closing_balance == D("70.00")


# --- the page -------------------------------------------------------------------------------------


def test_the_page_shows_the_hierarchy_and_opens_its_branches(staff):
    story = northwind()
    period = {"start": "2026-03-01", "end": "2026-03-31"}

    response = staff.get(BALANCES, period)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Northwind HQ" in html and "3 branches" in html and "− From other accounts" in html
    assert response.context["report"].totals.closing_balance == D("1310.00")
    branches = staff.get(BALANCES, {**period, "parent": story.hq.pk})
    text = branches.content.decode()
    assert "(own account)" in text and "Northwind Boston" in text
    assert 'href="?start=2026-03-01&amp;end=2026-03-31"' in text  # the breadcrumb back to the top level
    by_name = staff.get(BALANCES, {**period, "parent": story.hq.pk, "sort": "name"})
    assert [r["row"].name for r in by_name.context["rows"]] == [
        "Northwind Austin",
        "Northwind Boston",
        "Northwind Denver",
    ]


def test_rows_are_paged_fifty_at_a_time(staff):
    for n in range(55):
        invoice(CustomerFactory(display_name=f"Customer {n:02}"), date(2026, 5, 4), f"{n + 1}.00")

    first = staff.get(BALANCES, {"start": "2026-05-01", "end": "2026-05-31"})
    second = staff.get(BALANCES, {"start": "2026-05-01", "end": "2026-05-31", "page": 2})

    assert len(first.context["rows"]) == 50 and len(second.context["rows"]) == 5
    assert "Rows 51–55 of 55" in second.content.decode()
    assert first.context["rows"][0]["row"].name == "Customer 54"  # largest closing balance first


def test_the_csv_holds_every_row_and_guards_formulas(staff):
    northwind()
    evil = CustomerFactory(display_name='=HYPERLINK("http://evil")')
    invoice(evil, date(2026, 3, 1), "5.00")

    response = staff.get(BALANCES, {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"})

    assert 'filename="customer-balances-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Customer,Group,Figures,Branches,Opening,Invoiced,Refunded,To other accounts,Received")
    assert any(line.startswith("\"'=HYPERLINK") for line in lines)
    assert lines[-1].startswith("Total,") and ",1315.00,USD,2026-03-01,2026-03-31" in lines[-1]


def test_an_empty_ledger_says_so(staff):
    response = staff.get(BALANCES)

    assert response.status_code == 200
    assert "No customer at this level had a balance or a movement" in response.content.decode()


def test_the_query_count_does_not_grow_with_the_branches(staff, django_assert_max_num_queries):
    def tree(branches: int):
        parent = CustomerFactory()
        for _n in range(branches):
            branch = CustomerFactory(parent=parent)
            bill = invoice(branch, date(2026, 3, 1), "10.00")
            pay(parent, date(2026, 3, 2), "4.00", {bill: "4.00"})
        return parent

    small = tree(2)
    period = {"start": "2026-02-15", "end": timezone.localdate().isoformat()}
    staff.get(BALANCES, {**period, "parent": small.pk})  # session, permissions and content types warm
    with django_assert_max_num_queries(12) as small_queries:
        staff.get(BALANCES, {**period, "parent": small.pk})
    big = tree(40)
    with django_assert_max_num_queries(len(small_queries)):
        response = staff.get(BALANCES, {**period, "parent": big.pk})
    assert len(response.context["report"].rows) == 40
    with django_assert_max_num_queries(len(small_queries)):
        top = staff.get(BALANCES, period)
    assert sum(r["row"].branches for r in top.context["rows"]) == 42


def test_one_row_per_group_adds_up_its_members_own_accounts(staff):
    story = northwind()
    period = {"start": "2026-01-01", "end": "2026-03-31"}

    response = staff.get(BALANCES, {**period, "group": "groups"})

    rows = {r.name: r for r in response.context["report"].rows}
    enterprise = balances_report(start=date(2026, 1, 1), end=date(2026, 3, 31), currency="USD", group=story.hq.group_id)
    assert rows["Enterprise"].figures.closing_balance == enterprise.totals.closing_balance
    assert rows["Enterprise"].members == 2 and _adds_up(rows["Enterprise"].figures)
    assert response.context["report"].totals.closing_balance == D("1310.00")  # the same as by hierarchy
    assert f"group={rows['Resellers'].group_key}" in response.content.decode()


def test_the_pdf_prints_the_rows_and_totals(staff):
    story = northwind()

    response = staff.get(
        BALANCES, {"start": "2026-03-01", "end": "2026-03-31", "parent": story.hq.pk, "format": "pdf"}
    )

    assert response["Content-Type"] == "application/pdf"
    assert 'filename="customer-balances-2026-03-01-2026-03-31.pdf"' in response["Content-Disposition"]
    text = _pdf_text(response.content)
    assert "CUSTOMER BALANCES" in text and "1 Mar 2026 to 31 Mar 2026" in text
    assert "Northwind Enterprise $400.00" in text and "HQ (own" in text  # the name wraps in its cell
    assert "Total $1,900.00 $0.00 $100.00 $400.00 $700.00 $50.00 $400.00 $1,250.00" in text


def _pdf_text(content: bytes) -> str:
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)
