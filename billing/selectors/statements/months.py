"""Each account's statement movements summed by calendar month and kind, from the documents.

What `StatementMonth` rows must hold (`billing.services.account_totals` writes them for the accounts a
ledger action touched; `check_ledger` compares them all) and, summed, each account's statement balance.
One query for any number of accounts, built from the catalogue; it runs on PostgreSQL and on SQLite.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import connection

from billing.money import ZERO
from billing.selectors.sql import ANY_IDS, for_this_database

from .kinds import SIDES, DocumentKind, Side

CENT = Decimal("0.01")  # MoneyField's decimal places
MonthKey = tuple[int, date, str]  # (customer id, the month's first day, LineKind)


def _month(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def conditions_sql(side: Side, alias: str = "t") -> list[str]:
    """The SQL conditions that make a row of `side`'s table one of its movements."""
    kind = side.kind
    if isinstance(kind, DocumentKind):
        return [where.sql(kind.model, alias) for where in kind.counted]
    return [kind.between_sql(alias)]


def column(side: Side, name: str, alias: str = "t") -> str:
    return f"{alias}.{side.kind.model._meta.get_field(name).column}"


def months_sql() -> str:
    """SQL for (cid, month, kind, amount, lines) of the customers `%(ids)s`, every date."""
    parts = []
    for side in SIDES:
        cid, month = column(side, side.customer), _month(column(side, side.kind.on))
        where = " AND ".join([f"{cid} {ANY_IDS}", *conditions_sql(side)])
        parts.append(
            f"""SELECT {cid} AS cid, {month} AS month, '{side.line_kind}' AS kind,
                   SUM({column(side, side.kind.amount)}) AS amount, COUNT(*) AS lines
            FROM {side.kind.model._meta.db_table} t WHERE {where} GROUP BY {cid}, {month}"""
        )
    return "\nUNION ALL\n".join(parts)


def statement_months(*, customer_ids: Iterable[int]) -> dict[MonthKey, tuple[Decimal, int]]:
    """(amount, lines) of each account's movements by month and kind (months without any: absent)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*for_this_database(months_sql(), {"ids": ids}))
        rows = cursor.fetchall()
    months: dict[MonthKey, tuple[Decimal, int]] = {}
    for cid, month, kind, amount, lines in rows:
        # SQLite gives the month as text and sums NUMERIC columns as floats: back to the cent (exact below 10^13)
        key = (cid, month if isinstance(month, date) else date.fromisoformat(month), kind)
        before, counted = months.get(key, (ZERO, 0))  # several kinds of movement make lines of one kind
        months[key] = (before + Decimal(str(amount)).quantize(CENT), counted + int(lines))
    return months
