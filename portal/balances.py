"""The home page's balance figures for a parent with many branches: the consolidated total over every
visible account, and the per-account breakdown one page at a time.

Three queries however many branches: the visible ids in display order, the total (five sums over
them in one query, with `billing.selectors.balances.balance_summary`'s definitions) and
`balance_summary` for the accounts of one page only.
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import DecimalField, F, Func, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from billing.models import CreditNote, Customer, Invoice, Payment
from billing.money import ZERO
from billing.selectors.balances import CustomerBalance, balance_summary

BREAKDOWN_PAGE_SIZE = 25


@dataclass(frozen=True)
class BalanceBreakdown:
    total: CustomerBalance
    accounts: int  # how many accounts the total covers
    page: Page  # object_list: CustomerBalance rows of this page, by display name


_MONEY = DecimalField(max_digits=18, decimal_places=2)


def _sum(queryset: QuerySet, field: str) -> Coalesce:
    """SUM(field) over the queryset as a scalar subquery (no GROUP BY: Func is not seen as an aggregate)."""
    summed = queryset.order_by().values(s=Func(F(field), function="SUM", output_field=_MONEY))
    return Coalesce(Subquery(summed, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def consolidated_balance(*, customers: QuerySet[Customer], customer: Customer) -> CustomerBalance:
    """The five figures summed over `customers` in one query (a row of `customer` carries five scalar
    subqueries; none is per customer). Same definitions as `balance_summary`. The visibility CTE stays a
    subquery here (one parameter; PostgreSQL hashes it against the partial indexes of migration billing
    0007): a list of 1,000 ids in each of five subqueries costs 4× more, mostly in building the SQL."""
    ids = customers.values("pk")
    row = Customer.objects.filter(pk=customer.pk).values_list(
        _sum(Invoice.objects.open().regular().filter(customer__in=ids), "balance_due"),
        _sum(Invoice.objects.open().retainers().filter(customer__in=ids), "balance_due"),
        _sum(Invoice.objects.retainers().filter(customer__in=ids, retainer_unused__gt=0), "retainer_unused"),
        _sum(Payment.objects.succeeded().filter(customer__in=ids, unallocated__gt=0), "unallocated"),
        _sum(CreditNote.objects.filter(customer__in=ids, status=CreditNote.Status.OPEN, balance__gt=0), "balance"),
    ).get()
    outstanding, retainers, retainer_unused, excess, credit_notes = row
    return CustomerBalance(
        customer_id=None, display_name="Total", currency=customer.currency, outstanding_invoices=outstanding,
        available_credits=excess + credit_notes, outstanding_retainers=retainers,
        available_retainer_payments=retainer_unused,
    )


def balance_breakdown(*, customers: QuerySet[Customer], customer: Customer, page_number,
                      per_page: int = BREAKDOWN_PAGE_SIZE) -> BalanceBreakdown:
    """Consolidated total plus one page of per-account rows (ordered by display name, then id).

    The visible ids are read once in display order (a thousand ints), so the page and the count cost
    no query of their own."""
    ordered = list(Customer.objects.filter(pk__in=customers.values("pk")).order_by("display_name", "pk")
                   .values_list("pk", flat=True))
    page = Paginator(ordered, per_page).get_page(page_number)
    ids = list(page.object_list)
    page.object_list = balance_summary(customers=Customer.objects.filter(pk__in=ids)).rows if ids else []
    return BalanceBreakdown(total=consolidated_balance(customers=customers, customer=customer),
                            accounts=len(ordered), page=page)
