"""The whole statement: every line of the period built in Python from the catalogue (the PDF, the admin,
and the statement page on databases other than PostgreSQL). Runs on any database Django supports."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Q, QuerySet, Sum

from billing.models import Customer
from billing.money import ZERO

from .kinds import DOCUMENTS, TRANSFERS, LineKind, Side
from .results import CustomerStatement, Statement, StatementLine


class Person(NamedTuple):
    """A customer of a statement, with what the statement shows of it (reads like a Customer)."""

    pk: int
    display_name: str
    currency: str


class People(list):
    """`Person`s in statement order, as `statement_customers` returns them (taken as they are)."""


def statement_customers(customers: QuerySet[Customer] | Iterable[Customer | Person]) -> People:
    """The statement's customers, in the order its sections are listed: by display name, case aside, then
    id. A queryset costs one query (plain rows, no model instances: a thousand of those cost ~3 ms);
    customers already read (with their display name and currency) cost none."""
    if isinstance(customers, People):
        return customers
    if isinstance(customers, QuerySet):
        rows = customers.order_by().values_list("pk", "display_name", "currency")
        people = list(map(Person._make, rows))
    else:
        people = [Person(c.pk, c.display_name, c.currency) for c in customers]
    return People(sorted(people, key=lambda p: (p.display_name.casefold(), p.display_name, p.pk)))


def currency_of(people: list[Person]) -> str:
    currencies = {currency for _pk, _name, currency in people}
    return currencies.pop() if len(currencies) == 1 else ""


@dataclass
class _Row:
    date: date
    side: Side
    number: str
    description: str
    customer_id: int
    amount: Decimal
    internal: bool  # a transfer whose both sides are in the statement
    pk: int

    @property
    def order(self):
        return (self.date, LineKind.RANK[self.side.line_kind], self.number, self.pk, self.side.kind.src)


def _documents(ids: list[int], start: date, end: date, opening: dict, rows: list[_Row]) -> None:
    for kind in DOCUMENTS:
        (side,) = kind.sides
        sign = 1 if side.is_debit else -1
        documents = kind.rows().filter(**{f"{kind.customer}_id__in": ids})
        before = documents.filter(**{f"{kind.on}__lt": start}).order_by().values(f"{kind.customer}_id")
        for customer_id, total in before.annotate(s=Sum(kind.amount)).values_list(f"{kind.customer}_id", "s"):
            opening[customer_id] += sign * total
        period = documents.filter(**{f"{kind.on}__gte": start, f"{kind.on}__lte": end}).values_list(
            "pk", kind.on, f"{kind.customer}_id", kind.amount, *kind.numbers, *kind.details
        )
        for pk, on, customer_id, amount, *more in period:
            number = kind.number_of(*more[: len(kind.numbers)])
            words = kind.describe(side, number, *more[len(kind.numbers) :])
            rows.append(_Row(on, side, number, words, customer_id, amount, False, pk))


def _transfers(ids: list[int], start: date, end: date, opening: dict, rows: list[_Row]) -> None:
    statement_ids = set(ids)
    for kind in TRANSFERS:
        out, into = kind.sides
        giver, taker = f"{kind.giver}_id", f"{kind.taker}_id"
        transfers = kind.rows().filter(Q(**{f"{giver}__in": ids}) | Q(**{f"{taker}__in": ids}))
        before = transfers.filter(**{f"{kind.on}__lt": start}).order_by().values(giver, taker)
        for from_id, to_id, total in before.annotate(s=Sum(kind.amount)).values_list(giver, taker, "s"):
            opening[from_id] += total
            opening[to_id] -= total
        period = transfers.filter(**{f"{kind.on}__gte": start, f"{kind.on}__lte": end}).values_list(
            "pk", kind.on, giver, taker, kind.amount, *kind.numbers, *kind.details,
            f"{kind.giver}__display_name", f"{kind.taker}__display_name",
        )
        for pk, on, from_id, to_id, amount, source_number, invoice_number, from_name, to_name in period:
            number = kind.number_of(source_number)
            internal = from_id in statement_ids and to_id in statement_ids
            rows.append(_Row(on, out, number, kind.describe(out, number, invoice_number, to_name), from_id, amount,
                             internal, pk))
            rows.append(_Row(on, into, number, kind.describe(into, number, invoice_number, from_name), to_id, amount,
                             internal, pk))


def _running(rows: list[_Row], opening: Decimal, names: dict[int, str]):
    balance, debits, credits, lines = opening, ZERO, ZERO, []
    for r in rows:
        debit, credit = (r.amount, ZERO) if r.side.is_debit else (ZERO, r.amount)
        balance += debit - credit
        debits += debit
        credits += credit
        lines.append(StatementLine(r.date, r.side.line_kind, r.number, r.description, r.customer_id,
                                   names[r.customer_id], debit, credit, balance))
    return lines, debits, credits, balance


def statement(*, customers: QuerySet[Customer] | Iterable[Customer | Person], start: date, end: date) -> Statement:
    """The statement of accounts of these customers from `start` to `end` inclusive.

    Opening balance = every movement before `start`; rows in date order (same day: invoices,
    credit notes, payments, transfers, refunds); closing balance = opening + debits − credits.
    With several customers: per-customer sections plus a consolidated list (see `Statement`).
    `customers` is a queryset, or customers already read with their display name and currency.
    Reads only; a fixed number of queries whatever the number of customers or documents: the
    customers (none if already read), then two per kind of movement.
    """
    people = statement_customers(customers)
    names = {pk: name for pk, name, _cur in people}
    ids = list(names)
    opening: dict[int, Decimal] = defaultdict(lambda: ZERO)
    rows: list[_Row] = []
    _documents(ids, start, end, opening, rows)
    _transfers(ids, start, end, opening, rows)
    rows = sorted((r for r in rows if r.customer_id in names), key=lambda r: r.order)

    sections = []
    for pk, name, currency in people:
        lines, debits, credits, closing = _running([r for r in rows if r.customer_id == pk], opening[pk], names)
        sections.append(CustomerStatement(pk, name, currency, ZERO + opening[pk], lines, debits, credits, closing))

    total_opening = sum((opening[pk] for pk in ids), ZERO)
    consolidated = [r for r in rows if not r.internal]
    lines, debits, credits, closing = _running(consolidated, total_opening, names)
    between = sum((r.amount for r in rows if r.internal and r.side.is_debit), ZERO)
    return Statement(
        start=start,
        end=end,
        currency=currency_of(people),
        opening_balance=total_opening,
        lines=lines,
        total_debits=debits,
        total_credits=credits,
        closing_balance=closing,
        sections=sections,
        transfers_between_accounts=between,
    )
