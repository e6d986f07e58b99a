"""The statement page: the statement's figures, and its lines and accounts a slice at a time.

On PostgreSQL the figures and each slice are one query each (`page_sql`); elsewhere (SQLite under
`make run`) the page is sliced from the whole statement (`whole.statement`).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from billing.models import Customer
from billing.money import ZERO
from billing.selectors.sql import Ids

from . import page_sql
from .kinds import MOVEMENTS, LineKind, TransferKind
from .results import AccountSubtotals, Statement, StatementLine
from .whole import Person, currency_of, statement, statement_customers


class _Lines:
    """The consolidated lines as a sequence a Paginator can slice: each slice is one SQL query."""

    def __init__(self, page: "StatementPage", count: int):
        self._page, self._count = page, count
        self.brought_forward = page.opening_balance  # the balance before the last slice taken

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: slice) -> list[StatementLine]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("statement lines are read a slice at a time")
        offset = max(index.start or 0, 0)
        limit = max((self._count if index.stop is None else index.stop) - offset, 0)
        lines, self.brought_forward = self._page._lines(offset, limit)
        return lines


class _Accounts:
    """The accounts of the statement as a sequence a Paginator can slice: each slice is one SQL query."""

    def __init__(self, page: "StatementPage"):
        self._page = page

    def __len__(self) -> int:
        return len(self._page._people)

    def __getitem__(self, index: slice) -> list[AccountSubtotals]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("statement accounts are read a slice at a time")
        wanted = self._page._people[index]
        read = self._page._accounts_read
        if read is not None and [a.customer_id for a in read] == [pk for pk, _name, _cur in wanted]:
            return read  # read with the figures (`statement_page(accounts=...)`)
        return self._page._subtotals(wanted)


@dataclass
class StatementPage:
    """What the statement page shows, without building the whole statement (see `statement_page`).

    Same figures as `statement(...)`: opening_balance, total_debits, total_credits, closing_balance,
    currency and transfers_between_accounts of the consolidated list, and `totals` (the per-account
    table's column sums); `lines` and `accounts` are sequences a Paginator slices, one SQL query per slice
    (lines with their running balance; per-account subtotals).
    """

    start: date
    end: date
    currency: str
    opening_balance: Decimal
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal
    line_count: int
    totals: AccountSubtotals
    transfers_between_accounts: Decimal
    _people: list[Person]
    _kinds: frozenset[int] = frozenset()  # the kinds of movement (`src`) the consolidated list has lines of
    _ids: Ids | None = None
    _accounts_read: list[AccountSubtotals] | None = None  # a slice of `accounts` read with the figures
    lines: _Lines = field(init=False)
    accounts: _Accounts = field(init=False)

    def __post_init__(self):
        self.lines = _Lines(self, self.line_count)
        self.accounts = _Accounts(self)

    @property
    def account_count(self) -> int:
        return len(self._people)

    @property
    def is_consolidated(self) -> bool:
        return len(self._people) > 1

    @property
    def customer_name(self) -> str:
        """The one account's name (for a statement that is not consolidated)."""
        return self._people[0][1] if self._people else ""

    def _params(self, people: list[Person], **more) -> dict:
        if people is self._people:  # the statement's own customers: their array literal, built once
            if self._ids is None:
                self._ids = Ids(pk for pk, _name, _cur in people)
            return _params(self._ids, self.start, self.end) | more
        return _params([pk for pk, _name, _cur in people], self.start, self.end) | more

    def _lines(self, offset: int, limit: int) -> tuple[list[StatementLine], Decimal]:
        """Lines offset+1 .. offset+limit with their running balance, read from whichever end is nearer:
        from the start (opening balance + each line) or back from the end (closing balance − the lines
        after each one), so a page costs O(lines before it or after it), never O(period)."""
        names = {pk: name for pk, name, _cur in self._people}
        limit = max(min(limit, self.line_count - offset), 0)
        if not limit:
            return [], self.opening_balance if offset <= 0 else self.closing_balance
        backward = self.line_count - offset < offset + limit
        if backward:
            first, skip = self.line_count - offset, self.line_count - offset - limit
        else:
            first, skip = offset + limit, offset
        params = self._params(self._people, opening=self.opening_balance, closing=self.closing_balance, first=first,
                              limit=limit, skip=skip)
        with connection.cursor() as cursor:
            sql = page_sql.lines_sql(backward=backward, few=len(names) <= page_sql.FEW_CUSTOMERS, kinds=self._kinds)
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        lines = []
        for src, _pk, on, rank, number, cid, debit, credit, balance, *details in rows:
            kind = MOVEMENTS[src]
            side = next(s for s in kind.sides if s.line_kind == LineKind.ORDER[rank])
            wanted = len(kind.details) + (1 if isinstance(kind, TransferKind) else 0)
            words = kind.describe(side, number, *details[:wanted])
            lines.append(StatementLine(on, side.line_kind, number, words, cid, names[cid], ZERO + debit, ZERO + credit,
                                       balance))
        brought_forward = lines[0].balance - lines[0].debit + lines[0].credit if lines else self.opening_balance
        return lines, brought_forward

    def _subtotals(self, people: list[Person]) -> list[AccountSubtotals]:
        """Each account's opening balance and period movements by kind (see `page_sql.figures_sql`)."""
        figures = _figures(self._params(people), per_account=True)
        return [
            AccountSubtotals.of(pk, name, currency, *figures.of(pk))
            for pk, name, currency in people
        ]


@dataclass
class _Figures:
    """What `figures_sql` rows add up to, by account (None: all the customers together)."""

    balance: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))
    since_start: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(lambda: ZERO)))
    in_period: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(lambda: ZERO)))
    lines: dict = field(default_factory=lambda: defaultdict(int))  # the period's, by kind (all accounts)
    internal: Decimal = ZERO
    internal_lines: int = 0

    @property
    def line_count(self) -> int:
        """Lines of the consolidated list: each transfer between two of its accounts is two lines less."""
        return sum(self.lines.values()) - 2 * self.internal_lines

    @property
    def kinds(self) -> frozenset[int]:
        """The kinds of movement (`src`) the consolidated list has lines of."""
        transfers = self.lines[LineKind.TRANSFER_IN] + self.lines[LineKind.TRANSFER_OUT] > 2 * self.internal_lines
        return frozenset(
            kind.src for kind in MOVEMENTS
            if (transfers if isinstance(kind, TransferKind) else self.lines[kind.line_kind] > 0)
        )

    def of(self, cid) -> tuple[Decimal, dict[str, Decimal]]:
        """(opening balance, the period's amounts by kind) of the account `cid`."""
        since = sum((a if kind in LineKind.DEBITS else -a for kind, a in self.since_start[cid].items()), ZERO)
        return self.balance[cid] - since, self.in_period[cid]


def _figures(params: dict, *, per_account: bool) -> _Figures:
    start, after = params["from"], params["after"]
    sql = page_sql.figures_sql(
        per_account=per_account, head=start < params["a_month"], tail=after < params["b_month"],
        with_accounts="account_ids" in params,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    figures = _Figures()
    for cid, kind, a, a_lines, b, b_lines in rows:
        if kind == "":
            figures.balance[cid] += a or 0
        elif kind == "internal":
            figures.internal += a or 0
            figures.internal_lines += a_lines or 0
        else:
            figures.since_start[cid][kind] += a or 0
            figures.in_period[cid][kind] += (a or 0) - (b or 0)
            if cid is None:
                figures.lines[kind] += (a_lines or 0) - (b_lines or 0)
    return figures


def _first_whole_month(day: date) -> date:
    """`day` if it is a month's first, else the first of the next month."""
    if day.day == 1:
        return day
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _params(ids: Iterable[int], start: date, end: date) -> dict:
    """The query parameters. The ids go as one array literal: psycopg adapts a list of a thousand ints again
    at each place a query names it, a string it only quotes."""
    after = end + timedelta(days=1)
    return {
        "ids": (ids if isinstance(ids, Ids) else Ids(ids)).array_literal,
        "from": start,
        "end": end,
        "after": after,
        "a_month": _first_whole_month(start),
        "b_month": _first_whole_month(after),
    }


@dataclass
class _WholeStatementPage(StatementPage):
    """A `StatementPage` sliced from the whole `statement` (every line built in Python): what databases
    other than PostgreSQL get (SQLite under `make run`, a demo ledger), since the page's SQL is PostgreSQL's."""

    _full: Statement | None = None

    @classmethod
    def of(cls, full: Statement) -> "_WholeStatementPage":
        return cls(
            start=full.start,
            end=full.end,
            currency=full.currency,
            opening_balance=full.opening_balance,
            total_debits=full.total_debits,
            total_credits=full.total_credits,
            closing_balance=full.closing_balance,
            line_count=len(full.lines),
            totals=full.totals,
            transfers_between_accounts=full.transfers_between_accounts,
            _people=[(s.customer_id, s.customer_name, s.currency) for s in full.sections],
            _full=full,
        )

    def _lines(self, offset: int, limit: int) -> tuple[list[StatementLine], Decimal]:
        lines = self._full.lines[offset : offset + limit]
        return lines, lines[0].balance - lines[0].debit + lines[0].credit if lines else self.opening_balance

    def _subtotals(self, people: list[Person]) -> list[AccountSubtotals]:
        accounts = {a.customer_id: a for a in self._full.accounts}
        return [accounts[pk] for pk, _name, _currency in people]


def statement_page(
    *,
    customers: QuerySet[Customer] | Iterable[Customer | Person],
    start: date,
    end: date,
    accounts: slice | None = None,
) -> StatementPage:
    """The statement of these customers from `start` to `end` for a page that shows a slice of it.

    Same figures as `statement(...)`, but the lines and the per-account subtotals are read one slice
    at a time (`Paginator(page.lines, 50)`, `Paginator(page.accounts, 25)`): one query here for the
    figures (and one for the customers when given a queryset rather than customers already read), and
    one per slice, whatever the number of customers or documents. `accounts`: the slice of accounts the
    page will show, read with the figures (in statement order; the page then reads no slice of its own).
    Use `statement` when every line is needed (the PDF). On a database other than PostgreSQL, the page is
    sliced from `statement`.
    """
    if connection.vendor != "postgresql":
        return _WholeStatementPage.of(statement(customers=customers, start=start, end=end))
    people = statement_customers(customers)
    currency = currency_of(people)
    ids = Ids(pk for pk, _name, _cur in people)
    params = _params(ids, start, end)
    shown = people[accounts] if accounts is not None and len(people) > 1 else None
    if shown:
        params["account_ids"] = Ids(pk for pk, _name, _cur in shown).array_literal
    figures = _figures(params, per_account=False)
    totals = AccountSubtotals.of(None, "Total", currency, *figures.of(None))
    return StatementPage(
        start=start,
        end=end,
        currency=currency,
        opening_balance=totals.opening_balance,
        total_debits=totals.total_debits - figures.internal,
        total_credits=totals.total_credits - figures.internal,
        closing_balance=totals.closing_balance,
        line_count=figures.line_count,
        totals=totals,
        transfers_between_accounts=ZERO + figures.internal,
        _people=people,
        _kinds=figures.kinds,
        _ids=ids,
        _accounts_read=[AccountSubtotals.of(pk, name, cur, *figures.of(pk)) for pk, name, cur in shown]
        if shown else None,
    )
