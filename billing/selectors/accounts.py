"""Each account's figures computed from the documents themselves: what `AccountBalance` and
`StatementMonth` rows must hold.

`billing.services.account_totals` writes these into the rows of the accounts a business action
touched; `ledger_check` compares every row with them. Three queries for any number of accounts.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from billing.models import AccountBalance, Customer, StatementMonth
from billing.money import ZERO

from .balances import balance_summary
from .statements.kinds import LineKind
from .statements.months import MonthKey, statement_months

KEPT_FIGURES = (
    "outstanding_invoices",
    "available_credits",
    "outstanding_retainers",
    "available_retainer_payments",
    "statement_balance",
)


@dataclass(frozen=True)
class AccountFigures:
    outstanding_invoices: Decimal = ZERO
    available_credits: Decimal = ZERO
    outstanding_retainers: Decimal = ZERO
    available_retainer_payments: Decimal = ZERO
    statement_balance: Decimal = ZERO


def statement_balances(months: dict[MonthKey, tuple[Decimal, int]]) -> dict[int, Decimal]:
    """Debits − credits of every statement movement of each account, of any date, from its months
    (`statement_months`; ids with none: absent)."""
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (cid, _month, kind), (amount, _lines) in months.items():
        balances[cid] += amount if kind in LineKind.DEBITS else -amount
    return dict(balances)


def account_figures(
    *, customer_ids: Iterable[int], months: dict[MonthKey, tuple[Decimal, int]] | None = None
) -> dict[int, AccountFigures]:
    """The figures each of these accounts should hold, from its invoices, payments, credit notes,
    applications and refunds (every id present; zeros for an account without any). `months`: these
    accounts' `statement_months`, if already read."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    summary = balance_summary(customers=Customer.objects.filter(pk__in=ids)).rows
    balances = statement_balances(statement_months(customer_ids=ids) if months is None else months)
    return {
        row.customer_id: AccountFigures(
            outstanding_invoices=row.outstanding_invoices,
            available_credits=row.available_credits,
            outstanding_retainers=row.outstanding_retainers,
            available_retainer_payments=row.available_retainer_payments,
            statement_balance=balances.get(row.customer_id, ZERO),
        )
        for row in summary
    }


def kept_figures(*, customer_ids: Iterable[int] | None = None) -> dict[int, AccountFigures]:
    """What the `AccountBalance` rows hold now (all rows when `customer_ids` is None)."""
    rows = AccountBalance.objects.all()
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=list(customer_ids))
    return {
        values[0]: AccountFigures(*values[1:])
        for values in rows.values_list("customer_id", *KEPT_FIGURES)
    }


def kept_months(*, customer_ids: Iterable[int] | None = None) -> dict[MonthKey, tuple[Decimal, int]]:
    """What the `StatementMonth` rows hold now (all rows when `customer_ids` is None), as `statement_months`."""
    rows = StatementMonth.objects.all()
    if customer_ids is not None:
        rows = rows.filter(customer_id__in=list(customer_ids))
    return {
        (cid, month, kind): (amount, lines)
        for cid, month, kind, amount, lines in rows.values_list("customer_id", "month", "kind", "amount", "lines")
    }
