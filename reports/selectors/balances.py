"""Customer balances for a period: each account's statement subtotals, per customer and rolled up.

The figures are the statement's, not a computation of their own: `billing.selectors.statements`'
`account_subtotals` gives every customer's `AccountSubtotals` for the period (opening balance, invoiced,
paid, credited, refunded, money from and to other accounts, closing balance) from the kept statement
balance and monthly sums, in one query however many customers there are. So a customer's row is its own
statement's per-account row, and a rolled-up row is the consolidated statement of the customer and
every branch under it: the column sums, less the money moved between two accounts of that subtree (a
parent paying a branch's invoice), which would otherwise show on both sides (`transfers_between`, one
query: each transfer is netted in every subtree that holds both its accounts).

Every row adds up: opening + invoiced + refunded + to other accounts − paid − credited − from other
accounts = closing. Queries: the customers, the subtotals and the transfers, whatever the branches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from billing.money import ZERO
from billing.selectors.statements import AccountSubtotals, account_subtotals, transfers_between
from billing.selectors.statements.whole import Person

from .hierarchy import BY_GROUP, ReportRow, Tree

# The figures a row shows, in the order a reader adds them up (fields of AccountSubtotals), and the sorts.
AMOUNTS = ("opening_balance", "invoiced", "refunded", "transferred_out", "paid", "credited", "transferred_in")
SORTS = ("closing", "opening", "invoiced", "paid", "name")


@dataclass
class BalancesReport:
    start: dt.date
    end: dt.date
    currency: str
    rows: list[ReportRow[AccountSubtotals]]
    totals: AccountSubtotals  # the column sums of `rows` (and `own`): the level shown, every page of it
    hidden: int  # customers at this level with no balance and no movement in the period
    trail: list[tuple[int, str]] = field(default_factory=list)  # the parents above the level shown
    # With a parent: its own account, shown above its branches (in `totals`).
    own: ReportRow[AccountSubtotals] | None = None


def _is_empty(figures: AccountSubtotals) -> bool:
    """No balance and no movement in the period."""
    return not any(getattr(figures, name) for name in AMOUNTS)


def _less(figures: AccountSubtotals, internal: Decimal) -> AccountSubtotals:
    """A consolidated row: money moved inside the subtree leaves both transfer columns (the closing holds)."""
    if not internal:
        return figures
    return replace(
        figures, transferred_in=figures.transferred_in - internal, transferred_out=figures.transferred_out - internal
    )


def _sum(customer_id: int | None, name: str, currency: str, parts: list[AccountSubtotals]) -> AccountSubtotals:
    total = AccountSubtotals.total(parts, currency=currency, name=name)
    return replace(total, customer_id=customer_id)


def balances_report(
    *, start: dt.date, end: dt.date, currency: str, parent_id: int | None = None, group: int | str | None = None
) -> BalancesReport:
    """The balances report at one level, every row of it (the caller pages them).

    - Neither `parent_id` nor `group`: one consolidated row per top-level customer, its own account and
      all its branches' as one consolidated statement.
    - `parent_id`: one consolidated row per direct branch of that customer, and its own account in `own`.
    - `group` (a group id, or NO_GROUP): one row per member, its own account only (a group is no hierarchy).
    - `group` BY_GROUP: one row per group (and one for the customers in none), the column sums of its
      members' own accounts (`customer_id` None; nothing is netted: a group is no hierarchy).
    Rows with no balance and no movement are left out (counted in `hidden`). Three queries.
    """
    tree = Tree()
    people = [Person(n.pk, n.name, n.currency) for n in tree.nodes.values() if n.currency == currency]
    own = account_subtotals(customers=people, start=start, end=end)
    trail: list[tuple[int, str]] = []
    own_row = None
    if group == BY_GROUP:
        rows = [
            ReportRow(
                None,
                name,
                "",
                _sum(None, name, currency, [own[n.pk] for n in members if n.pk in own]),
                group_key=key,
                members=len(members),
            )
            for key, name, members in tree.groups()
        ]
    elif group is not None:
        rows = [ReportRow(n.pk, n.name, n.group, own[n.pk]) for n in tree.members(group) if n.pk in own]
    else:
        subtree = _roll_up(tree, own, currency, start, end)
        descendants = tree.descendants()
        if parent_id is not None:
            node = tree.nodes[parent_id]
            trail = tree.trail(parent_id)
            if node.pk in own:
                own_row = ReportRow(node.pk, node.name, node.group, own[node.pk])
        rows = [
            ReportRow(
                pk,
                tree.nodes[pk].name,
                tree.nodes[pk].group,
                subtree[pk],
                consolidated=bool(descendants[pk]),
                branches=descendants[pk],
            )
            for pk in tree.children[parent_id]
            if pk in subtree
        ]
    shown = [row for row in rows if not _is_empty(row.figures)]
    listed = [own_row, *shown] if own_row else shown
    totals = AccountSubtotals.total([row.figures for row in listed], currency=currency)
    return BalancesReport(
        start=start,
        end=end,
        currency=currency,
        rows=shown,
        totals=totals,
        hidden=len(rows) - len(shown),
        trail=trail,
        own=own_row,
    )


def _roll_up(
    tree: Tree, own: dict[int, AccountSubtotals], currency: str, start: dt.date, end: dt.date
) -> dict[int, AccountSubtotals]:
    """Each customer's consolidated figures: its own and all its descendants', less the transfers between
    two accounts of its subtree. A transfer is inside every subtree that holds the lowest customer above
    both its accounts, so it is counted there and added up the tree like the figures."""
    internal: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (giver, taker), amount in transfers_between(customer_ids=list(own), start=start, end=end).items():
        common = tree.common_ancestor(giver, taker)
        if common is not None:
            internal[common] += amount
    gross: dict[int, AccountSubtotals] = {}  # the plain column sums of the subtree's accounts
    inside: dict[int, Decimal] = {}
    for pk in tree.bottom_up():
        children = [child for child in tree.children.get(pk, ()) if child in gross]
        inside[pk] = internal[pk] + sum((inside[child] for child in children), ZERO)
        parts = ([own[pk]] if pk in own else []) + [gross[child] for child in children]
        if parts:  # else another currency, and nothing under it in this one
            gross[pk] = _sum(pk, tree.nodes[pk].name, currency, parts)
    return {pk: _less(figures, inside[pk]) for pk, figures in gross.items()}


def sort_rows(rows: list[ReportRow[AccountSubtotals]], sort: str) -> list[ReportRow[AccountSubtotals]]:
    """Rows in the order chosen: by closing or opening balance, invoiced or paid (largest first), or by name."""
    keys = {
        "closing": lambda r: (-r.figures.closing_balance, r.name.casefold()),
        "opening": lambda r: (-r.figures.opening_balance, r.name.casefold()),
        "invoiced": lambda r: (-r.figures.invoiced, r.name.casefold()),
        "paid": lambda r: (-r.figures.paid, r.name.casefold()),
        "name": lambda r: (r.name.casefold(), r.customer_id or 0),
    }
    return sorted(rows, key=keys.get(sort, keys["closing"]))
