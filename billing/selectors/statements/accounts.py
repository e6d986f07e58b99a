"""Many accounts' statement subtotals for one period at once, and the money they moved between each other.

The statement page reads a page of accounts' subtotals with its figures (`statement_page(accounts=...)`);
a back-office report needs every account's, then rolls them up its own way (a hierarchy, a group). Both
read the same SQL (`page_sql.figures_sql`): each account's kept statement balance less its movements since
the period's start, and the period's movements from the kept monthly sums (`StatementMonth`) and the
documents of the period's partial months. One query for any number of accounts; a second one for the
transfers between them, which a consolidated figure leaves out.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import connection

from billing.money import ZERO
from billing.selectors.sql import ANY_IDS, Ids, for_this_database

from .kinds import TRANSFERS
from .months import CENT, column
from .page import _figures, _params
from .results import AccountSubtotals
from .whole import Person, statement, statement_customers


def account_subtotals(*, customers: Iterable[Person], start: date, end: date) -> dict[int, AccountSubtotals]:
    """{customer id: its `AccountSubtotals` from `start` to `end`}: the figures its own statement shows
    (`statement(customers=[it], ...).accounts[0]`). `customers` are already read (id, display name,
    currency). One query on PostgreSQL whatever their number; elsewhere the whole statement is built."""
    people = statement_customers(customers)
    if not people:
        return {}
    if connection.vendor != "postgresql":
        return {a.customer_id: a for a in statement(customers=people, start=start, end=end).accounts}
    figures = _figures(_params(Ids(pk for pk, _name, _cur in people), start, end), per_account=True)
    return {pk: AccountSubtotals.of(pk, name, currency, *figures.of(pk)) for pk, name, currency in people}


def _transfers_sql() -> str:
    """(giver, taker, amount) of the period's transfers between two of the customers `%(ids)s`: the same
    rows as the consolidated statement's "internal" figure (`page_sql.figures_sql`), kept by pair."""
    parts = []
    for kind in TRANSFERS:
        out, into = kind.sides
        on = column(out, kind.on)
        giver, taker = column(out, out.customer), column(into, into.customer)
        parts.append(
            f"""SELECT {giver} AS giver, {taker} AS taker, {column(out, kind.amount)} AS amount
            FROM {out.kind.model._meta.db_table} t
            WHERE {on} >= %(from)s AND {on} <= %(end)s AND {kind.between_sql("t")}"""
        )
    return f"""SELECT p.giver, p.taker, SUM(p.amount) FROM ({" UNION ALL ".join(parts)}) p
        WHERE p.giver {ANY_IDS} AND p.taker {ANY_IDS} GROUP BY p.giver, p.taker"""


def transfers_between(*, customer_ids: Iterable[int], start: date, end: date) -> dict[tuple[int, int], Decimal]:
    """{(from customer, to customer): the money moved} from `start` to `end`, between two of these customers
    (one query). In a statement of both, each sits in one's "to other accounts" and the other's "from other
    accounts"; their consolidated statement leaves it out of both."""
    ids = Ids(customer_ids)
    if not ids:
        return {}
    params = {"ids": ids.array_literal if connection.vendor == "postgresql" else list(ids), "from": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(*for_this_database(_transfers_sql(), params))
        rows = cursor.fetchall()
    moved: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for giver, taker, amount in rows:
        moved[(giver, taker)] += Decimal(str(amount)).quantize(CENT)  # SQLite sums as floats
    return dict(moved)
