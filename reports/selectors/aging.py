"""Receivables aging as of any date, per customer and rolled up per hierarchy.

What is aged: the regular invoices (not retainer invoices, which ask for money in advance) in one
currency, as the ledger stood at the end of the `as_of` day:
- an invoice counts from its invoice date; a draft never counts;
- what it owed that day is what it owes now plus what was applied to it after that day (payments,
  credit notes, retainers) less what was taken back after that day (allocations reversed by refunds
  and disputes): `balance_due` is kept equal to total − applied by the ledger services (`check_ledger`
  proves it), so the history is read from the dated application rows, never guessed;
- a void invoice owed its whole total until the day it was voided (void invoices never have money
  applied; `check_ledger` proves that too).
Only the invoices that can owe something that day are read: the ones open now, the ones money reached
after that day, and the ones voided after it; so today's report reads the open invoices only.

Days overdue are counted from the due date: an invoice due on or after `as_of` is current; one due
`n` days before it falls in the bucket whose range holds `n` (1–15, 16–30, 31–45, over 45 by default).

Rolled up: a customer's consolidated figures are its own plus all its descendants', whatever their
portal access (staff see every branch). The figures are read in two queries however many customers
there are: the per-customer sums by bucket, and the customers with their parents and groups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import (
    Allocation,
    AllocationReversal,
    CreditApplication,
    Invoice,
    RetainerApplication,
)
from billing.money import ZERO

from .hierarchy import BY_GROUP, ReportRow, Tree

DEFAULT_BUCKET_EDGES = (15, 30, 45)
MAX_BUCKET_EDGES = 8
MAX_BUCKET_DAYS = 3650

_MONEY = DecimalField(max_digits=18, decimal_places=2)


@dataclass(frozen=True)
class Bucket:
    """Days overdue from `low` to `high` (None: no upper end); `low` 0 is "Current" (not yet due)."""

    low: int
    high: int | None

    @property
    def label(self) -> str:
        if self.low == 0:
            return "Current"
        if self.high is None:
            return f"Over {self.low - 1} days"
        return f"{self.low}–{self.high} days"


def buckets_for(edges: tuple[int, ...]) -> tuple[Bucket, ...]:
    """(15, 30, 45) -> Current, 1–15, 16–30, 31–45, Over 45. Edges are strictly increasing positive days."""
    buckets = [Bucket(0, 0)]
    low = 1
    for edge in edges:
        buckets.append(Bucket(low, edge))
        low = edge + 1
    buckets.append(Bucket(low, None))
    return tuple(buckets)


@dataclass
class Figures:
    """Amounts per bucket (in bucket order) and the number of invoices they come from."""

    amounts: list[Decimal]
    invoices: int = 0

    @classmethod
    def zero(cls, size: int) -> Figures:
        return cls([ZERO] * size, 0)

    @property
    def total(self) -> Decimal:
        return sum(self.amounts, ZERO)

    @property
    def overdue(self) -> Decimal:
        return sum(self.amounts[1:], ZERO)

    def add(self, other: Figures) -> None:
        self.amounts = [a + b for a, b in zip(self.amounts, other.amounts, strict=True)]
        self.invoices += other.invoices


@dataclass
class AgingReport:
    as_of: dt.date
    currency: str
    buckets: tuple[Bucket, ...]
    rows: list[ReportRow[Figures]]
    totals: Figures  # of `rows`: the level shown, every page of it
    hidden: int  # customers at this level that owed nothing that day
    trail: list[tuple[int, str]] = field(default_factory=list)  # the parents above the level shown
    own: ReportRow[Figures] | None = None  # with a parent: its own invoices, shown above its branches (in `totals`)


def invoice_amounts_owed(
    *,
    as_of: dt.date,
    currency: str,
    edges: tuple[int, ...] = DEFAULT_BUCKET_EDGES,
    customer_ids=None,
    by: str = "customer_id",
) -> dict[int | None, Figures]:
    """{customer id: its own invoices' amounts owed at the end of `as_of`, by bucket} (one query).

    Customers that owed nothing are left out. `customer_ids` limits the customers read (default: all).
    `by` names what the sums are grouped by instead of the customer, e.g. "customer__group_id" (the key is
    None for customers in no group): the database adds up, however many customers there are.
    """
    buckets = buckets_for(edges)
    after = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    invoices = (
        Invoice.objects.regular().filter(currency=currency, issued_on__lte=as_of).exclude(status=Invoice.Status.DRAFT)
    )
    if customer_ids is not None:
        invoices = invoices.filter(customer_id__in=customer_ids)
    touched = _touched_after(as_of)
    bucket = _bucket_of(as_of, buckets)
    # Three parts, so the dated rows are summed only for the few invoices money reached after `as_of`:
    # open now and untouched since (they owed then what they owe now), touched since, voided since.
    parts = [
        invoices.filter(status__in=(Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID), balance_due__gt=0)
        .exclude(pk__in=touched)
        .annotate(owed=F("balance_due")),
        invoices.filter(pk__in=touched)
        .exclude(status=Invoice.Status.VOID)
        .annotate(owed=ExpressionWrapper(F("balance_due") + _applied_after(as_of), output_field=_MONEY))
        .exclude(owed=0),
        invoices.filter(status=Invoice.Status.VOID, voided_at__gte=after).annotate(owed=F("total")),
    ]
    grouped = [
        part.annotate(bucket=bucket, key=F(by))
        .order_by()
        .values("key", "bucket")
        .annotate(amount=Sum("owed"), invoices=Count("pk"))
        for part in parts
    ]
    owed = grouped[0].union(*grouped[1:], all=True)
    result: dict[int | None, Figures] = {}
    for row in owed:
        if not row["amount"]:
            continue
        figures = result.setdefault(row["key"], Figures.zero(len(buckets)))
        figures.amounts[row["bucket"]] += row["amount"]
        figures.invoices += row["invoices"]
    return result


def _bucket_of(as_of: dt.date, buckets: tuple[Bucket, ...]) -> Case:
    """The bucket index of an invoice from its due date (date comparisons only: the same SQL on SQLite)."""
    whens = [When(due_on__gte=as_of, then=Value(0))]
    for index, bucket in enumerate(buckets[1:-1], start=1):
        whens.append(When(due_on__gte=as_of - dt.timedelta(days=bucket.high), then=Value(index)))
    return Case(*whens, default=Value(len(buckets) - 1), output_field=IntegerField())


def _sum_after(queryset, date_field: str, as_of: dt.date, invoice_field: str = "invoice"):
    rows = (
        queryset.filter(**{invoice_field: OuterRef("pk"), f"{date_field}__gt": as_of})
        .order_by()
        .values(invoice_field)
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def _applied_after(as_of: dt.date):
    """Money applied to the invoice after `as_of`, net of what refunds took back after it."""
    return (
        _sum_after(Allocation.objects.all(), "applied_on", as_of)
        + _sum_after(CreditApplication.objects.all(), "applied_on", as_of)
        + _sum_after(RetainerApplication.objects.all(), "applied_on", as_of)
        - _sum_after(AllocationReversal.objects.all(), "reversed_on", as_of, invoice_field="allocation__invoice")
    )


def _touched_after(as_of: dt.date):
    """Ids of invoices money reached, or was taken back from, after `as_of` (a subquery, not read)."""
    return (
        Allocation.objects.filter(applied_on__gt=as_of)
        .values("invoice_id")
        .union(CreditApplication.objects.filter(applied_on__gt=as_of).values("invoice_id"), all=True)
        .union(RetainerApplication.objects.filter(applied_on__gt=as_of).values("invoice_id"), all=True)
        .union(AllocationReversal.objects.filter(reversed_on__gt=as_of).values("allocation__invoice_id"), all=True)
    )


def aging_report(
    *,
    as_of: dt.date,
    currency: str,
    edges: tuple[int, ...] = DEFAULT_BUCKET_EDGES,
    parent_id: int | None = None,
    group: int | str | None = None,
) -> AgingReport:
    """The aging report at one level, every row of it (the caller pages them).

    - Neither `parent_id` nor `group`: one consolidated row per top-level customer (a customer with no
      parent), its own invoices and all its branches'.
    - `parent_id`: one consolidated row per direct branch of that customer, and its own invoices in `own`.
    - `group` (a group id, or NO_GROUP): one row per member with its own invoices only; a group is not
      a hierarchy, so nothing is rolled up.
    - `group` BY_GROUP: one row per group (and one for the customers in none), its members' own invoices
      added up (`customer_id` is None on these rows).
    Rows that owed nothing are left out (counted in `hidden`). Two queries.
    """
    buckets = buckets_for(edges)
    size = len(buckets)
    own = invoice_amounts_owed(as_of=as_of, currency=currency, edges=edges)
    tree = Tree()
    rows: list[ReportRow[Figures]] = []
    trail: list[tuple[int, str]] = []
    own_row = None
    if group == BY_GROUP:
        rows = _group_rows(tree, own, size)
    elif group is not None:
        rows = [ReportRow(n.pk, n.name, n.group, own.get(n.pk, Figures.zero(size))) for n in tree.members(group)]
    else:
        subtree, descendants = _roll_up(tree, own, size)
        if parent_id is not None:
            node = tree.nodes[parent_id]
            trail = tree.trail(parent_id)
            if node.pk in own:
                own_row = ReportRow(node.pk, node.name, node.group, own[node.pk])
        for pk in tree.children[parent_id]:
            node = tree.nodes[pk]
            rows.append(
                ReportRow(
                    pk, node.name, node.group, subtree[pk], consolidated=bool(descendants[pk]), branches=descendants[pk]
                )
            )
    shown = [row for row in rows if row.figures.total]
    totals = Figures.zero(size)
    for row in [own_row, *shown] if own_row else shown:
        totals.add(row.figures)
    hidden = len(rows) - len(shown)
    return AgingReport(as_of, currency, buckets, rows=shown, totals=totals, hidden=hidden, trail=trail, own=own_row)


def _group_rows(tree: Tree, own: dict[int, Figures], size: int) -> list[ReportRow[Figures]]:
    rows = []
    for key, name, members in tree.groups():
        row = ReportRow(None, name, "", Figures.zero(size), group_key=key, members=len(members))
        for node in members:
            if node.pk in own:
                row.figures.add(own[node.pk])
        rows.append(row)
    return rows


def _roll_up(tree: Tree, own: dict[int, Figures], size: int) -> tuple[dict[int, Figures], dict[int, int]]:
    """Each customer's figures with all its descendants', and how many descendants it has."""
    subtree: dict[int, Figures] = {}
    for pk in tree.bottom_up():
        figures = Figures.zero(size)
        if pk in own:
            figures.add(own[pk])
        for child in tree.children.get(pk, ()):
            figures.add(subtree[child])
        subtree[pk] = figures
    return subtree, tree.descendants()


def sort_rows(rows: list[ReportRow[Figures]], sort: str) -> list[ReportRow[Figures]]:
    """Rows in the order chosen: by total, overdue or oldest bucket (largest first), or by name. Ties by name."""
    keys = {
        "total": lambda r: (-r.figures.total, r.name.casefold()),
        "overdue": lambda r: (-r.figures.overdue, r.name.casefold()),
        "oldest": lambda r: (-r.figures.amounts[-1], -r.figures.total, r.name.casefold()),
        "name": lambda r: (r.name.casefold(), r.customer_id or 0),
    }
    return sorted(rows, key=keys.get(sort, keys["total"]))
