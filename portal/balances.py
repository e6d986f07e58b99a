"""The home page's balance figures for a parent with many branches: the consolidated total over every
visible account and the per-account breakdown one page at a time, from the figures the ledger keeps per
account (`billing.models.AccountBalance`, recomputed in every ledger action's transaction).

One query however many branches: every visible account's parent and kept figures, by display name. The
totals, the page of accounts and the consolidated Balance payable (each account's parent and figures, so
that a branch's credit is counted only against invoices it may pay) are computed from those rows.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import DecimalField, F, Func, QuerySet, Subquery, Value
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


def _accounts(customers: QuerySet[Customer], awaiting: QuerySet[Invoice] | None) -> list[tuple]:
    """Every visible account as (pk, parent_id, display_name, currency, *_FIGURES, awaiting), by display name,
    in ONE query: the totals, the page and the payer rule's walk (which needs every account's parent) all
    come from these rows. Two queries before (a page with window totals, then every account again for the
    payer rule): each ORM query costs ~1.5 ms to compile on top of its round trip, and 1,000 narrow rows
    cost less than that to sum in Python. The sums are of the same Decimals, so exact."""
    return list(
        customers.order_by("display_name", "pk")
        .annotate(**{figure: _kept(figure) for figure in _FIGURES}, awaiting_bank_payment=_summed_balance_due(awaiting))
        .values_list("pk", "parent_id", "display_name", "currency", *_FIGURES, "awaiting_bank_payment")
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
    one past the end the last page. With `awaiting` (invoices waiting for a bank payment,
    `portal.selectors.invoices_awaiting_bank_payment`), their summed balance due is read in the same query,
    for home's Pay Now (`portal.selectors.pay_now_state`)."""
    rows = _accounts(customers, awaiting)
    currencies = {row[3] for row in rows}
    currency = next(iter(currencies)) if len(currencies) == 1 else ""
    figures = {figure: [row[4 + i] for row in rows] for i, figure in enumerate(_FIGURES)}
    total = CustomerBalance(
        customer_id=None,
        display_name="Total",
        currency=currency,
        **{figure: sum(values, ZERO) for figure, values in figures.items()},
    )
    paginator = Paginator(range(len(rows)), per_page)  # no accounts: one empty page
    page = paginator.page(min(_page_number(page_number), paginator.num_pages))
    page.object_list = [
        CustomerBalance(
            customer_id=row[0],
            display_name=row[2],
            currency=row[3],
            **{figure: row[4 + i] for i, figure in enumerate(_FIGURES)},
        )
        for row in rows[page.start_index() - 1 : page.end_index()]
    ]
    # The payer rule: each account's parent, its invoices owed, its credits and its retainer payments.
    payable = balance_payable(accounts=((row[0], row[1], row[4], row[5], row[7]) for row in rows), currency=currency)
    return BalanceBreakdown(
        total=total,
        accounts=len(rows),
        page=page,
        payable=payable,
        awaiting_bank_payment=rows[0][-1] if rows else ZERO,
    )
