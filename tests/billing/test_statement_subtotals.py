"""Per-account subtotals of a consolidated statement: each column holds one kind of movement, every account
adds up (opening + columns = closing) and the accounts add up to the consolidated statement."""

from datetime import date
from decimal import Decimal

import pytest

from billing.selectors import customers_under, statement
from billing.selectors.statements import Person, account_subtotals, statement_page, transfers_between
from billing.services import link_to_parent, refund_payment
from tests.billing.statement_ledger import MARCH, _credit, _invoice, _pay
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

COLUMNS = ("invoiced", "paid", "credited", "refunded", "transferred_in", "transferred_out")


def _columns(subtotals):
    return tuple(getattr(subtotals, column) for column in COLUMNS)


def _both_engines(customers):
    """The accounts and totals of the whole statement (the PDF's) and of the statement page (SQL)."""
    full = statement(customers=customers, **MARCH)
    page = statement_page(customers=customers, **MARCH)
    return (full, full.accounts), (page, page.accounts[0 : len(page.accounts)])


@pytest.fixture
def northwind():
    """Northwind Networks pays its branch Boston's invoice and is paid for by its own parent; its private
    branch (closed to it) has invoices and payments of its own."""
    holdings = CustomerFactory(display_name="Northwind Holdings")
    hq = CustomerFactory(display_name="Northwind Networks")
    link_to_parent(customer=hq, parent=holdings)
    boston = CustomerFactory(display_name="Northwind Boston")
    private = CustomerFactory(display_name="Northwind Private")
    link_to_parent(customer=boston, parent=hq)
    link_to_parent(customer=private, parent=hq, allow_parent_access=False)
    old = _invoice(hq, date(2026, 2, 10), "100.00")
    own = _invoice(hq, date(2026, 3, 2), "1560.00")
    boston_invoice = _invoice(boston, date(2026, 3, 3), "920.00")
    _pay(hq, date(2026, 3, 10), "2480.00", {own: "1560.00", boston_invoice: "920.00"})
    _pay(holdings, date(2026, 3, 11), "1000.00", {old: "100.00"})
    _credit(hq, date(2026, 3, 12), "60.00", reason="Rebate")
    private_invoice = _invoice(private, date(2026, 3, 5), "500.00")
    _pay(private, date(2026, 3, 6), "200.00", {private_invoice: "200.00"})
    return dict(holdings=holdings, hq=hq, boston=boston, private=private)


def test_a_head_office_is_invoiced_its_own_invoices_and_a_branch_it_paid_for_paid_nothing(northwind):
    for _result, accounts in _both_engines(customers_under(customer_id=northwind["hq"].pk)):
        boston, hq = accounts

        assert (hq.customer_name, boston.customer_name) == ("Northwind Networks", "Northwind Boston")
        assert _columns(hq) == tuple(Decimal(x) for x in ("1560.00", "2480.00", "60.00", "0", "100.00", "920.00"))
        assert _columns(boston) == tuple(Decimal(x) for x in ("920.00", "0", "0", "0", "920.00", "0"))
        assert (hq.opening_balance, hq.closing_balance) == (Decimal("100.00"), Decimal("-60.00"))
        assert (boston.opening_balance, boston.closing_balance) == (Decimal("0.00"), Decimal("0.00"))


def test_each_account_adds_up_and_the_accounts_add_up_to_the_consolidated_statement(northwind):
    boston = northwind["boston"]
    payment = _pay(boston, date(2026, 3, 14), "50.00")
    refund_payment(payment=payment, amount=Decimal("20.00"), refunded_on=date(2026, 3, 16))

    for result, accounts in _both_engines(customers_under(customer_id=northwind["hq"].pk)):
        totals = result.totals

        for a in accounts:
            moved = a.invoiced + a.refunded + a.transferred_out - a.paid - a.credited - a.transferred_in
            assert a.opening_balance + moved == a.closing_balance
            assert (a.total_debits, a.total_credits) == (a.invoiced + a.refunded + a.transferred_out,
                                                         a.paid + a.credited + a.transferred_in)
        for column in (*COLUMNS, "opening_balance", "closing_balance"):
            assert sum(getattr(a, column) for a in accounts) == getattr(totals, column), column
        assert (totals.opening_balance, totals.closing_balance) == (result.opening_balance, result.closing_balance)
        # Networks' 920.00 for Boston is on both sides and cancels in the consolidated list; the 100.00
        # Holdings (outside the statement) paid for Networks stays in it.
        assert result.transfers_between_accounts == Decimal("920.00")
        assert result.total_debits == totals.total_debits - Decimal("920.00") == Decimal("2500.00")
        assert result.total_credits == totals.total_credits - Decimal("920.00") == Decimal("2690.00")
        assert result.closing_balance == Decimal("-90.00")


def test_a_single_account_statement_has_one_account_whose_figures_are_the_statements(northwind):
    for result, accounts in _both_engines(customers_under(customer_id=northwind["boston"].pk)):
        (boston,) = accounts

        assert _columns(boston) == _columns(result.totals)
        assert result.transfers_between_accounts == Decimal("0")
        assert (result.total_debits, result.total_credits) == (boston.total_debits, boston.total_credits)


@pytest.mark.parametrize("start, end", [(MARCH["start"], MARCH["end"]), (date(2026, 2, 15), date(2026, 3, 10)),
                                        (date(2026, 3, 11), date(2026, 4, 30))])
def test_many_accounts_subtotals_at_once_are_each_accounts_own_statement(northwind, start, end):
    people = [Person(c.pk, c.display_name, c.currency) for c in northwind.values()]

    many = account_subtotals(customers=people, start=start, end=end)
    moved = transfers_between(customer_ids=[c.pk for c in northwind.values()], start=start, end=end)

    for person in people:
        assert many[person.pk] == statement(customers=[person], start=start, end=end).accounts[0]
    full = statement(customers=people, start=start, end=end)
    assert sum(moved.values(), Decimal(0)) == full.transfers_between_accounts
