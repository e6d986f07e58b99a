"""Payments received in a period, totalled by method and gateway, and the list of those payments.

What is counted, all in one currency and dated in the period (both days included):
- received: payments dated in the period that the ledger counts (succeeded, or refunded since): the
  statement's "payment received" lines (`billing.selectors.statements.kinds`), so the total equals the
  customer balances report's "Received" for the same period; pending and failed payments are no money;
- refunded: refunds of payments dated in the period (pending or succeeded: a failed or canceled gateway
  refund gave nothing back), other than a dispute's hold;
- disputed/held: the money card disputes took off payments, dated when it was taken (`Dispute.hold`, a
  refund-like row): held while the dispute is open, kept when it is lost; a won dispute cancels its hold,
  so the money counts again;
- net = received − refunded − disputed/held.
Refunds and holds are counted on the day they happened, under their payment's method and gateway, even
when the payment itself was received before the period (a cash view of the period, as a bank statement).

`group` filters on the payer's customer group (a group id, or NO_GROUP). Two queries for the totals
whatever the number of payments; the list is a queryset the page slices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from billing.models import Payment, Refund
from billing.money import ZERO

from .hierarchy import NO_GROUP

RECEIVED = (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED)  # the statement's payment lines
SORTS = ("date", "amount", "customer")


@dataclass
class MethodTotals:
    """One line of the totals: payments by one method through one gateway ("" for offline ones)."""

    method: str
    gateway: str
    payments: int = 0
    received: Decimal = ZERO
    refunds: int = 0
    refunded: Decimal = ZERO
    disputes: int = 0
    held: Decimal = ZERO

    @property
    def label(self) -> str:
        method = dict(Payment.Method.choices).get(self.method, self.method)
        return str(method) if not self.method or not self.gateway else f"{method} ({self.gateway})"

    @property
    def net(self) -> Decimal:
        return self.received - self.refunded - self.held

    def add(self, other: MethodTotals) -> None:
        for name in ("payments", "received", "refunds", "refunded", "disputes", "held"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PaymentsReport:
    start: dt.date
    end: dt.date
    currency: str
    rows: list[MethodTotals]  # by method, then gateway
    totals: MethodTotals


def _of_group(queryset: QuerySet, customer: str, group: int | str | None) -> QuerySet:
    if group is None:
        return queryset
    return queryset.filter(**{f"{customer}__group_id": None if group == NO_GROUP else int(group)})


def payments_received(
    *, start: dt.date, end: dt.date, currency: str, group: int | str | None = None, sort: str = "date"
) -> QuerySet[Payment]:
    """The payments counted as received in the period, in the order chosen (newest, largest or by payer)."""
    payments = Payment.objects.filter(currency=currency, status__in=RECEIVED, paid_on__gte=start, paid_on__lte=end)
    orders = {
        "date": ("-paid_on", "-pk"),
        "amount": ("-amount", "-paid_on", "-pk"),
        "customer": ("customer__display_name", "-paid_on", "-pk"),
    }
    return _of_group(payments, "customer", group).select_related("customer").order_by(*orders.get(sort, orders["date"]))


def payments_report(*, start: dt.date, end: dt.date, currency: str, group: int | str | None = None) -> PaymentsReport:
    """Totals by method and gateway for the period (two queries: the payments, the refunds and holds)."""
    lines: dict[tuple[str, str], MethodTotals] = {}

    def line(method: str, gateway: str) -> MethodTotals:
        return lines.setdefault((method, gateway or ""), MethodTotals(method, gateway or ""))

    received = _of_group(
        Payment.objects.filter(currency=currency, status__in=RECEIVED, paid_on__gte=start, paid_on__lte=end),
        "customer",
        group,
    )
    for row in received.order_by().values("method", "gateway").annotate(n=Count("pk"), amount=Sum("amount")):
        totals = line(row["method"], row["gateway"])
        totals.payments, totals.received = row["n"], row["amount"]

    hold = Q(dispute__isnull=False)
    refunds = _of_group(
        Refund.objects.filter(
            currency=currency,
            status__in=Refund.COUNTED,
            payment__isnull=False,
            refunded_on__gte=start,
            refunded_on__lte=end,
        ),
        "payment__customer",
        group,
    )
    for row in (
        refunds.order_by()
        .values("payment__method", "payment__gateway")
        .annotate(
            refunds=Count("pk", filter=~hold),
            refunded=Sum("amount", filter=~hold),
            disputes=Count("pk", filter=hold),
            held=Sum("amount", filter=hold),
        )
    ):
        totals = line(row["payment__method"], row["payment__gateway"])
        totals.refunds, totals.refunded = row["refunds"], row["refunded"] or ZERO
        totals.disputes, totals.held = row["disputes"], row["held"] or ZERO

    order = {method: index for index, method in enumerate(Payment.Method.values)}
    rows = sorted(lines.values(), key=lambda t: (order.get(t.method, len(order)), t.gateway))
    totals = MethodTotals("", "")
    for row in rows:
        totals.add(row)
    return PaymentsReport(start=start, end=end, currency=currency, rows=rows, totals=totals)
