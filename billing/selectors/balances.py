"""What customers owe and hold: the portal home figures, outstanding invoices, the last payment.

Every selector here costs a fixed number of SQL queries however many customers (branches) or
invoices it covers: figures come from correlated subqueries or one grouped query.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import (
    AccountBalance,
    Allocation,
    AllocationReversal,
    CreditNote,
    Customer,
    Invoice,
    Payment,
    Refund,
)
from billing.money import ZERO

from .sql import IdIn

_MONEY = DecimalField(max_digits=18, decimal_places=2)


@dataclass(frozen=True)
class CustomerBalance:
    """The five portal-home figures for one customer (or, with customer_id None, a consolidated total).

    - outstanding_invoices: balance due of open regular invoices (sent / partially paid, overdue included).
    - available_credits: open credit notes' remaining balance + succeeded payments' unallocated excess.
    - outstanding_retainers: balance due of open retainer invoices.
    - available_retainer_payments: retainer payments received and not yet applied or refunded.
    `currency` is "" on a total over customers billing in different currencies (the sum is meaningless then).
    """

    customer_id: int | None
    display_name: str
    currency: str
    outstanding_invoices: Decimal
    available_credits: Decimal
    outstanding_retainers: Decimal
    available_retainer_payments: Decimal

    @property
    def balance_payable(self) -> Decimal:
        """Outstanding invoices − available credits − available retainer payments, never below zero.

        Right for one account; over several accounts use `BalancePayable` (a branch's credit can't pay
        its parent's or a sibling's invoices)."""
        return max(ZERO, self.net_balance)

    @property
    def net_balance(self) -> Decimal:
        """Outstanding invoices − available credits − available retainer payments, signed: below zero the
        account holds more credit than it owes. Rows of these add up to their total's."""
        return self.outstanding_invoices - self.available_credits - self.available_retainer_payments


@dataclass(frozen=True)
class BalancePayable:
    """The consolidated Balance payable of several accounts and how it comes about, under the payer rule
    (`billing.services._targets`): a customer's credit (or retainer payment) pays only its own invoices and
    those of its descendants open to it, never its parent's or a sibling's.

    outstanding_invoices − credits_counted − retainer_payments_counted = balance_payable, exactly; the
    available money that can't pay any of the invoices left (more than the invoices it may pay) is
    `credits_not_counted` and `retainer_payments_not_counted`: it stays available.
    """

    currency: str
    outstanding_invoices: Decimal
    credits_counted: Decimal
    retainer_payments_counted: Decimal
    credits_not_counted: Decimal
    retainer_payments_not_counted: Decimal

    @property
    def balance_payable(self) -> Decimal:
        return self.outstanding_invoices - self.credits_counted - self.retainer_payments_counted

    @property
    def not_counted(self) -> Decimal:
        return self.credits_not_counted + self.retainer_payments_not_counted


def balance_payable(*, accounts: Iterable[tuple[int, int | None, Decimal, Decimal, Decimal]],
                    currency: str) -> BalancePayable:
    """What is left to pay over these accounts once each account's money pays what it may.

    `accounts`: (customer id, parent id, outstanding invoices, available credits, available retainer
    payments), one per account of a tree as the portal shows it (every link open to the parent, so a
    customer's descendants here are exactly the ones its money may pay). A parent id outside `accounts`
    makes that account a top. No queries.

    Bottom up: each account's money pays what is still owed in its own subtree, credits first, then
    retainer payments. Using the most restricted money (the deepest) first covers the most: money higher
    up can pay everything below it too.
    """
    rows = {pk: (parent, owed, credits, retainers) for pk, parent, owed, credits, retainers in accounts}
    children: dict[int, list[int]] = {}
    for pk, (parent, *_figures) in rows.items():
        if parent in rows and parent != pk:
            children.setdefault(parent, []).append(pk)
    left: dict[int, Decimal] = {}  # still owed in each account's subtree, once its money is used
    counted = {"credits": ZERO, "retainers": ZERO}
    tops = [pk for pk, (parent, *_figures) in rows.items() if parent not in rows or parent == pk]
    # A cycle in bad data has no top: its accounts are reached from the first of them not yet seen.
    for start in [*tops, *rows]:
        if start in left:
            continue
        stack, order = [start], []
        while stack:  # depth first, children after their parent; reversed below: children first
            pk = stack.pop()
            if pk in left:
                continue
            left[pk] = ZERO
            order.append(pk)
            stack.extend(child for child in children.get(pk, ()) if child not in left)
        for pk in reversed(order):
            _parent, owed, credits, retainers = rows[pk]
            owing = owed + sum((left[child] for child in children.get(pk, ())), ZERO)
            from_credits = min(credits, owing)
            from_retainers = min(retainers, owing - from_credits)
            counted["credits"] += from_credits
            counted["retainers"] += from_retainers
            left[pk] = owing - from_credits - from_retainers
    outstanding = sum((owed for _parent, owed, _c, _r in rows.values()), ZERO)
    credits = sum((c for _parent, _owed, c, _r in rows.values()), ZERO)
    retainers = sum((r for _parent, _owed, _c, r in rows.values()), ZERO)
    return BalancePayable(
        currency=currency,
        outstanding_invoices=outstanding,
        credits_counted=counted["credits"],
        retainer_payments_counted=counted["retainers"],
        credits_not_counted=credits - counted["credits"],
        retainer_payments_not_counted=retainers - counted["retainers"],
    )


@dataclass(frozen=True)
class BalanceSummary:
    """One row per customer asked for (zeros included), ordered by display name, their total, and the
    consolidated Balance payable under the payer rule (`payable`)."""

    rows: list[CustomerBalance]
    total: CustomerBalance
    payable: BalancePayable | None = None


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    summed = (queryset.filter(customer_id=OuterRef("pk")).order_by().values("customer_id")
              .annotate(s=Sum(field)).values("s"))
    return Coalesce(Subquery(summed, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def balance_summary(*, customers: QuerySet[Customer]) -> BalanceSummary:
    """The portal-home balance figures per customer plus the consolidated total and Balance payable.

    One SQL query however many customers: each figure is a correlated subquery on the
    customer rows. `customers` is usually `visible_customers(user=…)` or `customers_under(…)`.
    """
    rows = (
        Customer.objects.filter(pk__in=customers.values("pk"))
        .annotate(
            _outstanding=_sum_subquery(Invoice.objects.open().regular(), "balance_due"),
            _outstanding_retainers=_sum_subquery(Invoice.objects.open().retainers(), "balance_due"),
            _retainer_unused=_sum_subquery(
                Invoice.objects.retainers().filter(retainer_unused__gt=0), "retainer_unused"),
            _excess=_sum_subquery(Payment.objects.succeeded().filter(unallocated__gt=0), "unallocated"),
            _credit_notes=_sum_subquery(
                CreditNote.objects.filter(status=CreditNote.Status.OPEN, balance__gt=0), "balance"),
        )
        .order_by("display_name", "pk")
        .values_list("pk", "display_name", "currency", "_outstanding", "_outstanding_retainers",
                     "_retainer_unused", "_excess", "_credit_notes", "parent_id")
    )
    balances, parents = [], {}
    for pk, name, currency, outstanding, retainers, retainer_unused, excess, credit_notes, parent_id in rows:
        parents[pk] = parent_id
        balances.append(CustomerBalance(
            customer_id=pk, display_name=name, currency=currency, outstanding_invoices=outstanding,
            available_credits=excess + credit_notes, outstanding_retainers=retainers,
            available_retainer_payments=retainer_unused,
        ))
    currencies = {b.currency for b in balances}
    total = CustomerBalance(
        customer_id=None,
        display_name="Total",
        currency=currencies.pop() if len(currencies) == 1 else "",
        outstanding_invoices=sum((b.outstanding_invoices for b in balances), ZERO),
        available_credits=sum((b.available_credits for b in balances), ZERO),
        outstanding_retainers=sum((b.outstanding_retainers for b in balances), ZERO),
        available_retainer_payments=sum((b.available_retainer_payments for b in balances), ZERO),
    )
    payable = balance_payable(
        accounts=((b.customer_id, parents[b.customer_id], b.outstanding_invoices, b.available_credits,
                   b.available_retainer_payments) for b in balances),
        currency=total.currency,
    )
    return BalanceSummary(rows=balances, total=total, payable=payable)


def customer_outstanding(*, customer_ids) -> dict[int, Decimal]:
    """Balance due of open regular invoices per customer id (zero for ids that owe nothing), as the ledger
    keeps it (`AccountBalance.outstanding_invoices`, the portal's figure too).

    One query reading a row per customer, for the admin hierarchy page (each node's figure; the caller
    adds them up): ~3 ms for a parent with 1,000 branches, where summing their invoices took ~15 ms.
    """
    ids = list(customer_ids)
    owed = dict(
        AccountBalance.objects.filter(IdIn(F("customer_id"), ids)).values_list("customer_id", "outstanding_invoices")
    )
    return {pk: owed.get(pk, ZERO) for pk in ids}


def outstanding_invoices(*, customers: QuerySet[Customer]) -> QuerySet[Invoice]:
    """Open regular invoices of these customers, oldest due first (the "Pay all outstanding" order).

    The customer is joined, so listing them costs one query.
    """
    return (Invoice.objects.open().regular().filter(customer__in=customers)
            .select_related("customer").order_by("due_on", "issued_on", "pk"))


def allocations_net_of_refunds() -> QuerySet[Allocation]:
    """Allocations as they stand after refunds: `reversed_amount` (what refunds took back from each,
    `AllocationReversal`) and `net_amount` (what stays applied), without those taken back in full.

    What an invoice lists as paid and a receipt as applied, so that those rows add up to the invoice's
    paid amount and, with the refunded and unapplied amounts, to the payment. The reversals are summed in
    a subquery: no extra query, usable in a `Prefetch`.
    """
    taken_back = (AllocationReversal.objects.filter(allocation=OuterRef("pk")).order_by().values("allocation")
                  .annotate(s=Sum("amount")).values("s"))
    return (
        Allocation.objects.annotate(
            reversed_amount=Coalesce(Subquery(taken_back, output_field=_MONEY), Value(ZERO), output_field=_MONEY)
        )
        .annotate(net_amount=F("amount") - F("reversed_amount"))
        .filter(net_amount__gt=0)
    )


def last_payment(*, customers: QuerySet[Customer]) -> Payment | None:
    """The most recent succeeded payment made by any of these customers, or None.

    Its allocations (net of refunds, `allocations_net_of_refunds`) and their invoices are prefetched
    (`payment.allocations.all()` → `.invoice`), so amount, date, reference and the invoices it paid cost
    two queries in all.
    """
    return (
        Payment.objects.succeeded().filter(customer__in=customers)
        .select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=allocations_net_of_refunds().select_related("invoice")))
        .order_by("-paid_on", "-pk")
        .first()
    )


def open_credit_sources(
    *, customers: QuerySet[Customer]
) -> tuple[list[Payment], list[CreditNote], list[Invoice]]:
    """What these customers can still apply: payments with excess, open credit notes, unused retainers.

    Three queries, each with the customer joined.
    """
    payments = list(Payment.objects.succeeded().filter(customer__in=customers, unallocated__gt=0)
                    .select_related("customer").order_by("paid_on", "pk"))
    notes = list(CreditNote.objects.filter(customer__in=customers, status=CreditNote.Status.OPEN,
                                           balance__gt=0)
                 .select_related("customer").order_by("issued_on", "pk"))
    retainers = list(Invoice.objects.retainers().filter(customer__in=customers, retainer_unused__gt=0)
                     .select_related("customer").order_by("issued_on", "pk"))
    return payments, notes, retainers



def held_by_disputes(*, payment) -> Decimal:
    """The part of `payment.refunded_amount` that card disputes hold (not refunds the payer was sent).

    No query for a payment that was never disputed; one otherwise."""
    if not payment.disputed:
        return ZERO
    held = Refund.objects.counted().filter(payment=payment, dispute__isnull=False).aggregate(total=Sum("amount"))
    return held["total"] or ZERO
