"""Group insights: per customer group (or per member of one group), what was sold in a period against the
period before, what is owed at its end, how fast invoices were paid and what discount was given.

The figures, all in one currency and from regular invoices only (retainer invoices ask for money in
advance; they are not sales):

- **Members**: the customers in the group now (every currency: membership is not about money).
- **Sales**: the totals (tax included, line discounts taken off) of the invoices issued in the period that
  are neither draft nor void. **Previous** is the same figure for the period of equal length just
  before it (1–31 March against 29 January–28 February); **change** is (sales − previous) / previous in
  per cent, and there is none when nothing was sold in the previous period.
- **Outstanding** and **overdue**: what the group's invoices owed at the end of the period's last day,
  as the ledger stood that day (`invoice_amounts_owed`, the aging report's own figures); overdue is
  the part past its due date.
- **Average days to pay**: over the invoices *paid off in the period*: an invoice (total above zero) is
  paid off in the period when at the end of the period's last day it owed nothing and the last
  payment, credit note or retainer applied to it by then is dated in the period. Its days to pay are
  the days from its invoice date to that last application's date (0 if money came before the invoice
  date). The average is the sum of those days over the number of such invoices. An invoice paid, then
  reopened by a refund and paid again counts once, on the day it was paid off again.
- **Discount**: the line discounts of the invoices counted in sales (`Invoice.discount_total`, the sum
  of each line's `discount_amount` = quantity × rate rounded less the line's amount; invoices have no
  discount of their own beyond their lines').

Every figure is summed by the database, grouped by group (or by customer), so the query count does not
depend on the number of customers or invoices: members, sales with discounts, amounts owed, days to
pay, and the sales by month for the chart (the group names are one more query at the group level).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Greatest, TruncMonth

from billing.models import Allocation, CreditApplication, Customer, CustomerGroup, Invoice, RetainerApplication
from billing.money import ZERO

from .aging import _MONEY, _applied_after, invoice_amounts_owed
from .hierarchy import NO_GROUP

HUNDRED = Decimal(100)
CHART_MONTHS = 12
NO_GROUP_NAME = "No group"

_BY_GROUP = "customer__group_id"
_BY_CUSTOMER = "customer_id"


@dataclass
class InsightFigures:
    members: int = 0
    sales: Decimal = ZERO
    previous_sales: Decimal = ZERO
    invoices: int = 0  # issued in the period: the ones in `sales`
    outstanding: Decimal = ZERO
    overdue: Decimal = ZERO
    paid_invoices: int = 0  # paid off in the period
    days_to_pay: int = 0  # summed over `paid_invoices`
    discount: Decimal = ZERO

    @property
    def change_percent(self) -> Decimal | None:
        """Sales against the previous period in per cent; None when nothing was sold then (no base)."""
        if not self.previous_sales:
            return None
        return (self.sales - self.previous_sales) / self.previous_sales * HUNDRED

    @property
    def average_days_to_pay(self) -> Decimal | None:
        """None when no invoice was paid off in the period."""
        if not self.paid_invoices:
            return None
        return Decimal(self.days_to_pay) / self.paid_invoices

    def add(self, other: InsightFigures) -> None:
        for name in ("members", "sales", "previous_sales", "invoices", "outstanding", "overdue", "paid_invoices",
                     "days_to_pay", "discount"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class InsightRow:
    """A group (`key` its id, None for the customers in no group) or, inside a group, one member."""

    key: int | None
    name: str
    figures: InsightFigures


@dataclass
class MonthlySales:
    """Sales per month of each series (a group), `months` the first days of the months, oldest first."""

    months: list[dt.date]
    series: list[tuple[str, list[Decimal]]]

    @property
    def totals(self) -> list[Decimal]:
        return [sum(amounts, ZERO) for amounts in zip(*(a for _n, a in self.series), strict=True)] \
            if self.series else [ZERO] * len(self.months)


@dataclass
class GroupInsights:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    currency: str
    rows: list[InsightRow]
    totals: InsightFigures
    monthly: MonthlySales
    group: tuple[int | str, str] | None = None  # (id or NO_GROUP, name) when the rows are its members
    by_member: bool = field(default=False)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same number of days that ends the day before `start`."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def chart_months(end: dt.date) -> list[dt.date]:
    """The first days of the CHART_MONTHS months up to and including `end`'s, oldest first."""
    index = end.year * 12 + end.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - CHART_MONTHS + 1, index + 1)]


def group_insights(*, start: dt.date, end: dt.date, currency: str, group: int | str | None = None) -> GroupInsights:
    """One row per customer group, then one for the customers in no group; with `group` (an id or NO_GROUP),
    one row per member of that group instead. Every row is listed, sales or not. Six queries."""
    previous_start, previous_end = previous_period(start, end)
    if group is None:
        by, members = _BY_GROUP, Customer.objects.all()
        names = dict(CustomerGroup.objects.order_by().values_list("pk", "name"))
    else:
        by = _BY_CUSTOMER
        members = Customer.objects.filter(group__isnull=True) if group == NO_GROUP else \
            Customer.objects.filter(group_id=int(group))
        names = {}
    figures: dict[int | None, InsightFigures] = {}

    def at(key) -> InsightFigures:
        return figures.setdefault(key, InsightFigures())

    if by == _BY_GROUP:
        for key, count in members.order_by().values_list("group_id").annotate(n=Count("pk")):
            at(key).members = count
        for key in names:
            at(key)
        at(None)
    else:
        for pk, name in members.order_by().values_list("pk", "display_name"):
            names[pk] = name
            at(pk).members = 1
    in_scope = {} if by == _BY_GROUP else {"customer__in": members}

    invoices = Invoice.objects.regular().filter(currency=currency, **in_scope).exclude(
        status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID))
    in_period = Q(issued_on__gte=start)
    sales = (invoices.filter(issued_on__gte=previous_start, issued_on__lte=end).order_by().values(by)
             .annotate(sales=Sum("total", filter=in_period), previous=Sum("total", filter=~in_period),
                       invoices=Count("pk", filter=in_period), discount=Sum("discount_total", filter=in_period)))
    for row in sales:
        f = at(row[by])
        f.sales, f.previous_sales = row["sales"] or ZERO, row["previous"] or ZERO
        f.invoices, f.discount = row["invoices"], row["discount"] or ZERO

    owed = invoice_amounts_owed(as_of=end, currency=currency, edges=(), by=by,
                                customer_ids=None if by == _BY_GROUP else members.values("pk"))
    for key, amounts in owed.items():
        at(key).outstanding, at(key).overdue = amounts.total, amounts.overdue

    for row in _paid_off(invoices, start=start, end=end, by=by):
        at(row[by]).paid_invoices, at(row[by]).days_to_pay = row["paid"], row["days"].days

    rows = [InsightRow(key, names.get(key, NO_GROUP_NAME), f) for key, f in figures.items()
            if key is None or key in names]
    rows.sort(key=lambda r: (r.key is None, r.name.casefold(), r.key or 0))
    if by == _BY_GROUP and not rows[-1].figures.members and not _has_figures(rows[-1].figures):
        rows.pop()  # every customer is in a group: no "No group" row
    totals = InsightFigures()
    for row in rows:
        totals.add(row.figures)
    group_row = None
    if group is not None:
        group_row = (group, NO_GROUP_NAME if group == NO_GROUP else
                     CustomerGroup.objects.filter(pk=int(group)).values_list("name", flat=True).first() or "")
    monthly = monthly_sales(invoices, end=end, group_names=_group_names(names, by, group_row))
    return GroupInsights(start=start, end=end, previous_start=previous_start, previous_end=previous_end,
                         currency=currency, rows=rows, totals=totals, monthly=monthly, group=group_row,
                         by_member=by == _BY_CUSTOMER)


def _has_figures(f: InsightFigures) -> bool:
    return bool(f.sales or f.previous_sales or f.outstanding or f.paid_invoices)


def _group_names(names: dict, by: str, group_row) -> dict[int | None, str]:
    if by == _BY_GROUP:
        return {**names, None: NO_GROUP_NAME}
    key = None if group_row[0] == NO_GROUP else int(group_row[0])
    return {key: group_row[1]}


def _paid_off(invoices, *, start: dt.date, end: dt.date, by: str):
    """[{by: key, "paid": invoices paid off in the period, "days": their days to pay summed (a timedelta)}].

    Only invoices money reached in the period can have been paid off in it, so they are read first (a
    subquery); for each, what it owed at the end of `end` is its balance now plus what was applied after
    `end` (the aging report's rule), and its last application by then is the latest of three dated rows
    (in the period, since one of them is: no second filter on it, so the database works it out once).
    """
    reached = (
        Allocation.objects.filter(applied_on__range=(start, end)).values("invoice_id")
        .union(CreditApplication.objects.filter(applied_on__range=(start, end)).values("invoice_id"), all=True)
        .union(RetainerApplication.objects.filter(applied_on__range=(start, end)).values("invoice_id"), all=True)
    )
    paid_on = Greatest(
        F("issued_on"),  # money applied before the invoice date counts as paid on the day: 0 days
        *(Coalesce(_last_applied(model, end), F("issued_on")) for model in
          (Allocation, CreditApplication, RetainerApplication)),
        output_field=DateField(),
    )
    return (
        invoices.filter(pk__in=reached, total__gt=0)
        .annotate(owed_then=ExpressionWrapper(F("balance_due") + _applied_after(end), output_field=_MONEY),
                  paid_on=paid_on)
        .filter(owed_then=0)  # `paid_on` is in the period: money reached each of them in it
        .order_by()
        .values(by)
        .annotate(paid=Count("pk"),
                  days=Sum(ExpressionWrapper(F("paid_on") - F("issued_on"), output_field=DurationField())))
    )


def _last_applied(model, end: dt.date):
    rows = (model.objects.filter(invoice=OuterRef("pk"), applied_on__lte=end).order_by().values("invoice")
            .annotate(last=Max("applied_on")).values("last"))
    return Subquery(rows, output_field=DateField())


def monthly_sales(invoices, *, end: dt.date, group_names: dict[int | None, str]) -> MonthlySales:
    """Sales (as in the table) per month and group over the CHART_MONTHS months up to `end`, one query; a
    series per group in `group_names` order that sold something in those months."""
    months = chart_months(end)
    rows = (invoices.filter(issued_on__gte=months[0], issued_on__lte=end)
            .annotate(month=TruncMonth("issued_on", output_field=DateField())).order_by()
            .values("month", _BY_GROUP).annotate(sales=Sum("total")))
    index = {month: i for i, month in enumerate(months)}
    amounts: dict[int | None, list[Decimal]] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        amounts.setdefault(row[_BY_GROUP], [ZERO] * len(months))[index[month]] += row["sales"]
    ordered = sorted(amounts, key=lambda k: (k is None, group_names.get(k, "").casefold(), k or 0))
    return MonthlySales(months=months, series=[(group_names.get(k, NO_GROUP_NAME), amounts[k]) for k in ordered])
