"""What customers owe and hold: the portal home figures, outstanding invoices, the last payment.

Every selector here costs a fixed number of SQL queries however many customers (branches) or
invoices it covers: figures come from correlated subqueries or one grouped query.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import AccountBalance, Allocation, CreditNote, Customer, Invoice, Payment
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
        """Outstanding invoices − available credits − available retainer payments, never below zero."""
        payable = self.outstanding_invoices - self.available_credits - self.available_retainer_payments
        return max(ZERO, payable)


@dataclass(frozen=True)
class BalanceSummary:
    """One row per customer asked for (zeros included), ordered by display name, and their total."""

    rows: list[CustomerBalance]
    total: CustomerBalance


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    summed = (queryset.filter(customer_id=OuterRef("pk")).order_by().values("customer_id")
              .annotate(s=Sum(field)).values("s"))
    return Coalesce(Subquery(summed, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def balance_summary(*, customers: QuerySet[Customer]) -> BalanceSummary:
    """The portal-home balance figures per customer plus the consolidated total.

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
                     "_retainer_unused", "_excess", "_credit_notes")
    )
    balances = [
        CustomerBalance(
            customer_id=pk, display_name=name, currency=currency, outstanding_invoices=outstanding,
            available_credits=excess + credit_notes, outstanding_retainers=retainers,
            available_retainer_payments=retainer_unused,
        )
        for pk, name, currency, outstanding, retainers, retainer_unused, excess, credit_notes in rows
    ]
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
    return BalanceSummary(rows=balances, total=total)


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


def last_payment(*, customers: QuerySet[Customer]) -> Payment | None:
    """The most recent succeeded payment made by any of these customers, or None.

    Its allocations and their invoices are prefetched (`payment.allocations.all()` → `.invoice`),
    so amount, date, reference and the invoices it paid cost two queries in all.
    """
    return (
        Payment.objects.succeeded().filter(customer__in=customers)
        .select_related("customer")
        .prefetch_related(Prefetch("allocations", queryset=Allocation.objects.select_related("invoice")))
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

