"""The home page's balance figures for a parent with many branches: the consolidated total over every
visible account and the per-account breakdown one page at a time, from the figures the ledger keeps per
account (`billing.models.AccountBalance`, recomputed in every ledger action's transaction).

One query however many branches: the page's accounts by display name, each row carrying the totals and
the count over every visible account (window aggregates, computed before LIMIT/OFFSET). A page number
past the end costs one more query (the last page). The consolidated Balance payable costs one more: each
account's parent and figures, so that a branch's credit is counted only against invoices it may pay.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, DecimalField, F, Func, Max, Min, QuerySet, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce

from billing.models import Customer, Invoice
from billing.money import ZERO
from billing.selectors.balances import BalancePayable, CustomerBalance, balance_payable

BREAKDOWN_PAGE_SIZE = 25
_MONEY = DecimalField(max_digits=18, decimal_places=2)
_FIGURES = ("outstanding_invoices", "available_credits", "outstanding_retainers", "available_retainer_payments")


@dataclass(frozen=True)
class BalanceBreakdown:
    total: CustomerBalance
    accounts: int  # how many accounts the total covers
    page: Page  # object_list: CustomerBalance rows of this page, by display name
    payable: BalancePayable  # the consolidated Balance payable, under the payer rule
    # the balance due of `awaiting`'s invoices (zero without it): what Pay Now cannot pay yet
    awaiting_bank_payment: Decimal = ZERO


def _kept(figure: str) -> Coalesce:
    """The account's kept figure; an account without a row has had no ledger activity (zero)."""
    return Coalesce(F(f"account_balance__{figure}"), Value(ZERO), output_field=_MONEY)


def _summed_balance_due(invoices: QuerySet[Invoice] | None):
    """SUM(balance_due) of `invoices` as an uncorrelated subquery: PostgreSQL computes it once for the
    whole query (an InitPlan), so a figure about other rows rides along without a query of its own. `Func`,
    not `Sum`: an aggregate in a Subquery would make Django add a GROUP BY."""
    if invoices is None:
        return Value(ZERO, output_field=_MONEY)
    summed = invoices.order_by().annotate(summed=Func(F("balance_due"), function="SUM", output_field=_MONEY))
    return Coalesce(Subquery(summed.values("summed")[:1], output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def _page_rows(customers: QuerySet[Customer], offset: int, limit: int, awaiting=None) -> list[dict]:
    everything = {"order_by": []}  # one window over all the visible accounts
    return list(
        customers.order_by("display_name", "pk")
        .annotate(
            awaiting_bank_payment=_summed_balance_due(awaiting),
            **{figure: _kept(figure) for figure in _FIGURES},
            **{f"total_{figure}": Window(Sum(_kept(figure)), **everything) for figure in _FIGURES},
            accounts=Window(Count("pk"), **everything),
            lowest_currency=Window(Min("currency"), **everything),
            highest_currency=Window(Max("currency"), **everything),
        )
        .values(
            "pk",
            "display_name",
            "currency",
            *_FIGURES,
            *(f"total_{f}" for f in _FIGURES),
            "accounts",
            "lowest_currency",
            "highest_currency",
            "awaiting_bank_payment",
        )[offset : offset + limit]
    )


def _page_number(value) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


def balance_breakdown(
    *,
    customers: QuerySet[Customer],
    page_number,
    per_page: int = BREAKDOWN_PAGE_SIZE,
    awaiting: QuerySet[Invoice] | None = None,
) -> BalanceBreakdown:
    """Consolidated total plus one page of per-account rows (ordered by display name, then id).

    `customers` is the visibility selector's queryset. An invalid page number shows the first page,
    one past the end the last page (as `Paginator.get_page`). With `awaiting` (invoices waiting for a bank
    payment, `portal.selectors.invoices_awaiting_bank_payment`), their summed balance due is read in the
    same query, for home's Pay Now (`portal.selectors.pay_now_state`)."""
    number = _page_number(page_number)
    rows = _page_rows(customers, (number - 1) * per_page, per_page, awaiting)
    if not rows and number > 1:  # past the end: the last page
        count = customers.count()
        number = max((count + per_page - 1) // per_page, 1)
        rows = _page_rows(customers, (number - 1) * per_page, per_page, awaiting)
    first = rows[0] if rows else None
    count = first["accounts"] if first else 0
    currency = first["lowest_currency"] if first and first["lowest_currency"] == first["highest_currency"] else ""
    total = CustomerBalance(
        customer_id=None,
        display_name="Total",
        currency=currency,
        **{figure: first[f"total_{figure}"] if first else ZERO for figure in _FIGURES},
    )
    page = Paginator(range(count), per_page).page(number)  # number is 1 when there are no accounts
    page.object_list = [
        CustomerBalance(
            customer_id=row["pk"],
            display_name=row["display_name"],
            currency=row["currency"],
            **{figure: row[figure] for figure in _FIGURES},
        )
        for row in rows
    ]
    return BalanceBreakdown(
        total=total,
        accounts=count,
        page=page,
        payable=_payable(customers, currency),
        awaiting_bank_payment=first["awaiting_bank_payment"] if first else ZERO,
    )


def _payable(customers: QuerySet[Customer], currency: str) -> BalancePayable:
    """Balance payable over every visible account: the payer rule needs each account's parent, so this
    reads one narrow row per account (~1 ms at 1,000 branches) and walks the tree in Python."""
    accounts = customers.order_by().values_list(
        "pk",
        "parent_id",
        _kept("outstanding_invoices"),
        _kept("available_credits"),
        _kept("available_retainer_payments"),
    )
    return balance_payable(accounts=accounts, currency=currency)
