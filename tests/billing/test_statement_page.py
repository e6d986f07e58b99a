"""`statement_page` (one page of lines, running balances in SQL) shows exactly what `statement` computes."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import Customer
from billing.selectors import LineKind, customers_under, statement
from billing.selectors.statements import statement_page
from billing.selectors.statements.page import _WholeStatementPage
from billing.selectors.statements.page_sql import FEW_CUSTOMERS
from billing.services import allocate_payment, link_to_parent
from tests.billing.statement_ledger import MARCH, _credit, _invoice, _pay, statement_ledger
from tests.factories import CustomerFactory, InvoiceFactory, PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger():
    return statement_ledger()


def _row(line):
    return (
        line.date,
        line.kind,
        line.number,
        line.description,
        line.customer_id,
        line.customer_name,
        line.debit,
        line.credit,
        line.balance,
    )


def _statements(ledger):
    return {
        "consolidated": customers_under(customer_id=ledger["hq"].pk),
        "one branch": Customer.objects.filter(pk=ledger["boston"].pk),
        "head office alone": Customer.objects.filter(pk=ledger["hq"].pk),
        "two of the accounts": Customer.objects.filter(pk__in=[ledger["hq"].pk, ledger["austin"].pk]),
    }


def _assert_pages_match_the_full_statement(customers, start, end, *, read=statement_page):
    """Every page of lines (1, 7, 25 or 100 a page, from the first to the last, so pages past the middle,
    which are read back from the closing balance, too), the brought-forward balances, the totals and each
    page of accounts of `statement_page` are those of `statement`."""
    full = statement(customers=customers, start=start, end=end)

    page = read(customers=customers, start=start, end=end)
    pages = [
        (size, offset, page.lines[offset : offset + size], page.lines.brought_forward)
        for size in (1, 7, 25, 100)
        for offset in range(0, len(full.lines), size)
    ]
    accounts = [a for offset in range(0, len(page.accounts), 25) for a in page.accounts[offset : offset + 25]]

    assert len(page.lines) == len(full.lines) > 0
    for size, offset, lines, brought_forward in pages:
        assert [_row(line) for line in lines] == [_row(line) for line in full.lines[offset : offset + size]]
        assert brought_forward == (full.lines[offset - 1].balance if offset else full.opening_balance)
        if offset + size >= len(full.lines):
            assert lines[-1] == full.lines[-1]  # the last page ends on the last line
    assert (page.opening_balance, page.total_debits, page.total_credits, page.closing_balance, page.currency) == (
        full.opening_balance,
        full.total_debits,
        full.total_credits,
        full.closing_balance,
        full.currency,
    )
    assert [_subtotals(a) for a in accounts] == [_subtotals(s) for s in full.sections]
    return full


def _subtotals(account):
    return (
        account.customer_id,
        account.customer_name,
        account.currency,
        account.opening_balance,
        account.total_debits,
        account.total_credits,
        account.closing_balance,
    )


@pytest.mark.parametrize("which", ["consolidated", "one branch", "head office alone", "two of the accounts"])
def test_every_page_of_the_sql_statement_shows_the_lines_and_balances_of_the_full_statement(ledger, which):
    _assert_pages_match_the_full_statement(_statements(ledger)[which], **MARCH)


PERIODS_FROM_MID_MONTH = [
    (date(2026, 3, 10), date(2026, 3, 22)),  # opens on the busy day
    (date(2026, 2, 15), date(2026, 3, 14)),  # across a month end, closes on the day of the reversal
    (date(2026, 3, 14), date(2026, 4, 10)),  # movements after it (and none before 1 April in April)
]


@pytest.mark.parametrize("which", ["consolidated", "one branch", "two of the accounts"])
@pytest.mark.parametrize("start, end", PERIODS_FROM_MID_MONTH)
def test_a_period_that_starts_mid_month_has_the_lines_and_figures_of_the_full_statement(ledger, which, start, end):
    _assert_pages_match_the_full_statement(_statements(ledger)[which], start, end)


@pytest.mark.parametrize("which", ["consolidated", "one branch"])
def test_a_page_sliced_from_the_whole_statement_reads_like_the_sql_page(ledger, which):
    """What a database other than PostgreSQL (SQLite under `make run`) gets from `statement_page`."""

    def sliced(**period):
        return _WholeStatementPage.of(statement(**period))

    _assert_pages_match_the_full_statement(_statements(ledger)[which], **MARCH, read=sliced)


@pytest.fixture
def closed_branch(ledger):
    """A branch of the head office with its own invoices, payments and credits, closed to it."""
    closed = CustomerFactory(display_name="Acme Closed", parent=ledger["hq"])
    old, busy = _invoice(closed, date(2026, 2, 6), "80.00"), _invoice(closed, date(2026, 3, 10), "45.00")
    _pay(closed, date(2026, 2, 25), "80.00", {old: "80.00"})
    _pay(closed, date(2026, 3, 17), "30.00", {busy: "30.00"})
    _credit(closed, date(2026, 3, 20), "15.00", invoice=busy)
    link_to_parent(customer=closed, parent=ledger["hq"], allow_parent_access=False)
    return closed


@pytest.mark.parametrize("start, end", [(MARCH["start"], MARCH["end"]), *PERIODS_FROM_MID_MONTH])
def test_a_branch_closed_to_the_head_office_is_left_out_of_its_statement(ledger, closed_branch, start, end):
    customers = customers_under(customer_id=ledger["hq"].pk)

    full = _assert_pages_match_the_full_statement(customers, start, end)

    assert closed_branch.pk not in {s.customer_id for s in full.sections}
    assert closed_branch.pk not in {line.customer_id for line in full.lines}
    without_it = statement(customers=customers.exclude(pk=closed_branch.pk), start=start, end=end)
    assert full.closing_balance == without_it.closing_balance


@pytest.mark.parametrize("with_head_office", [True, False])
@pytest.mark.parametrize("start, end", [(MARCH["start"], MARCH["end"]), *PERIODS_FROM_MID_MONTH])
def test_a_statement_of_more_accounts_than_a_page_of_accounts_has_the_figures_of_the_full_statement(
    ledger, closed_branch, start, end, with_head_office
):
    """Past `FEW_CUSTOMERS` accounts the transfers are found from the period's transfers, not from each
    account's documents: the same lines and figures, whether the head office's payments for the branches
    are inside the statement (they cancel) or come from outside it."""
    for _ in range(FEW_CUSTOMERS):
        CustomerFactory(parent=ledger["hq"])
    customers = customers_under(customer_id=ledger["hq"].pk)
    if not with_head_office:
        customers = customers.exclude(pk=ledger["hq"].pk)

    full = _assert_pages_match_the_full_statement(customers, start, end)

    assert len(full.sections) > FEW_CUSTOMERS
    assert (LineKind.TRANSFER_IN in {line.kind for line in full.lines}) is not with_head_office


def test_the_test_ledger_has_every_kind_of_line_on_one_day_and_transfers_that_cancel(ledger):
    full = statement(customers=customers_under(customer_id=ledger["hq"].pk), **MARCH)

    busy_day = {line.kind for line in full.lines if line.date == date(2026, 3, 10)}
    in_sections = {line.kind for section in full.sections for line in section.lines}
    assert busy_day >= {LineKind.INVOICE, LineKind.CREDIT_NOTE, LineKind.PAYMENT, LineKind.REFUND}
    assert in_sections == set(LineKind.ORDER)
    assert {LineKind.TRANSFER_IN, LineKind.TRANSFER_OUT}.isdisjoint(line.kind for line in full.lines)
    assert full.opening_balance != 0 and len(full.lines) > 50


@pytest.mark.parametrize("which", ["consolidated", "one branch", "two of the accounts"])
def test_each_page_of_accounts_has_the_subtotals_of_the_full_statements_sections(ledger, which):
    customers = _statements(ledger)[which]
    full = statement(customers=customers, **MARCH)

    page = statement_page(customers=customers, **MARCH)
    accounts = page.accounts[0:2] + page.accounts[2:25]

    assert len(page.accounts) == page.account_count == len(full.sections)
    assert [
        (
            a.customer_id,
            a.customer_name,
            a.currency,
            a.opening_balance,
            a.total_debits,
            a.total_credits,
            a.closing_balance,
        )
        for a in accounts
    ] == [
        (
            s.customer_id,
            s.customer_name,
            s.currency,
            s.opening_balance,
            s.total_debits,
            s.total_credits,
            s.closing_balance,
        )
        for s in full.sections
    ]
    assert page.is_consolidated == full.is_consolidated


def test_a_period_without_movements_has_no_lines_and_keeps_the_opening_balance(ledger):
    customers = customers_under(customer_id=ledger["hq"].pk)

    page = statement_page(customers=customers, start=date(2027, 1, 1), end=date(2027, 1, 31))

    assert page.lines[0:100] == []
    assert page.lines.brought_forward == page.opening_balance == page.closing_balance
    assert (
        page.opening_balance
        == statement(customers=customers, start=date(2027, 1, 1), end=date(2027, 1, 31)).opening_balance
    )


@pytest.mark.parametrize("branches, invoices_each", [(1, 1), (30, 4)])
def test_a_statement_page_costs_four_queries_whatever_the_branches_and_invoices(
    branches, invoices_each, django_assert_num_queries
):
    parent = CustomerFactory()
    payment = PaymentFactory(customer=parent, amount=Decimal("1000.00"), paid_on=date(2026, 3, 2))
    for branch in CustomerFactory.create_batch(branches, parent=parent):
        InvoiceFactory(customer=branch, issued_on=date(2026, 2, 10), total=Decimal("10.00"))
        for _ in range(invoices_each):
            invoice = InvoiceFactory(customer=branch, issued_on=date(2026, 3, 10), total=Decimal("5.00"))
        allocate_payment(payment=payment, allocations={invoice.pk: Decimal("5.00")}, applied_on=date(2026, 3, 11))

    with django_assert_num_queries(4):
        page = statement_page(customers=customers_under(customer_id=parent.pk), **MARCH)
        lines = page.lines[0:100]
        accounts = page.accounts[0:25]

    assert lines and accounts
    assert page.opening_balance == Decimal("10.00") * branches


@pytest.mark.parametrize("which", ["consolidated", "two of the accounts"])
def test_a_page_of_accounts_read_with_the_figures_is_the_full_statements_and_costs_no_query_of_its_own(
    ledger, which, django_assert_num_queries
):
    customers = list(_statements(ledger)[which])
    full = statement(customers=customers, **MARCH)

    with django_assert_num_queries(1):
        page = statement_page(customers=customers, accounts=slice(1, 3), **MARCH)
        accounts = page.accounts[1:3]

    assert accounts == full.accounts[1:3]
    assert page.accounts[0:1] == full.accounts[0:1]  # another slice: read on its own
