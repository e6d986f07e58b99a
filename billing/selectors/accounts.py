"""Each account's figures computed from the documents themselves: what `AccountBalance` rows must hold.

`billing.services.account_totals` writes these into the rows of the accounts a business action
touched; `ledger_check` compares every row with them. Three queries for any number of accounts.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from billing.models import AccountBalance, Customer
from billing.money import ZERO

from .balances import balance_summary
from .sql import for_this_database
from .statements import _opening_sql, _params

CENT = Decimal("0.01")  # MoneyField's decimal places
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


def statement_balances(*, customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """Debits − credits of every statement movement of each account, of any date (ids with none: absent)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            *for_this_database(
                f"SELECT cid, SUM(amount) FROM ({_opening_sql()}) o GROUP BY cid", _params(ids, date.max, date.max)
            )
        )
        # SQLite sums NUMERIC columns as floats: back to the cent (exact below 10^13)
        return {cid: Decimal(str(amount)).quantize(CENT) for cid, amount in cursor.fetchall()}


def account_figures(*, customer_ids: Iterable[int]) -> dict[int, AccountFigures]:
    """The figures each of these accounts should hold, from its invoices, payments, credit notes,
    applications and refunds (every id present; zeros for an account without any)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    summary = balance_summary(customers=Customer.objects.filter(pk__in=ids)).rows
    balances = statement_balances(customer_ids=ids)
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
