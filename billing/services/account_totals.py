"""Keeping `AccountBalance` rows true: every ledger action recomputes the rows of the accounts it
touched, from the documents, before its transaction commits.

A ledger service runs inside `ledger_action()` (a `transaction.atomic` that also collects the
accounts touched) and calls `touch_accounts(...)` with the customers whose documents it changes:
the payer and the invoice's customer of an allocation, the customer of an invoice sent or voided,
and so on. When the outermost `ledger_action` ends without an error, those accounts' rows are
locked in customer-id order (after every document lock the action took, so two actions cannot
wait on each other) and recomputed in a new statement, which sees whatever another action committed
while this one waited for the lock. Recomputing (rather than adding differences) makes touching an
account too many times harmless; touching too few is what `manage.py check_ledger` would report.
"""

import threading
from collections.abc import Iterable
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from billing.models import AccountBalance, Customer
from billing.selectors.accounts import KEPT_FIGURES, account_figures

_pending = threading.local()  # per thread, as Django's database connections are


@contextmanager
def ledger_action():
    """`transaction.atomic()` for a business action on the ledger (usable as a decorator).

    Nested actions share the outermost one's list of touched accounts; it refreshes them once, last.
    """
    depth = getattr(_pending, "depth", 0)
    if depth == 0:
        _pending.accounts = set()
    _pending.depth = depth + 1
    try:
        with transaction.atomic():
            yield
            if depth == 0 and _pending.accounts:
                refresh_account_totals(customer_ids=_pending.accounts)
    finally:
        _pending.depth = depth
        if depth == 0:
            _pending.accounts = set()


def touch_accounts(*customer_ids: int | None) -> None:
    """These accounts' figures change in the current ledger action (None ids are ignored).

    Outside a `ledger_action` the rows are refreshed at once."""
    ids = {pk for pk in customer_ids if pk is not None}
    if getattr(_pending, "depth", 0):
        _pending.accounts |= ids
    elif ids:
        with transaction.atomic():
            refresh_account_totals(customer_ids=ids)


def refresh_account_totals(*, customer_ids: Iterable[int]) -> None:
    """Recompute the `AccountBalance` rows of these customers from their documents (caller is atomic).

    Five queries whatever the number of accounts: create missing rows, lock the rows, the figures
    (two queries), one bulk update."""
    ids = sorted(set(customer_ids))
    AccountBalance.objects.bulk_create([AccountBalance(customer_id=pk) for pk in ids], ignore_conflicts=True)
    rows = list(AccountBalance.objects.select_for_update().filter(customer_id__in=ids).order_by("customer_id"))
    figures = account_figures(customer_ids=ids)
    now = timezone.now()
    for row in rows:
        row.updated_at = now
        for name in KEPT_FIGURES:
            setattr(row, name, getattr(figures[row.customer_id], name))
    AccountBalance.objects.bulk_update(rows, [*KEPT_FIGURES, "updated_at"])


def rebuild_account_totals(*, batch_size: int = 500) -> int:
    """Recompute every customer's row (after loading data without the services, or to repair).

    Returns the number of accounts refreshed. Batches keep each transaction short."""
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            refresh_account_totals(customer_ids=ids[start : start + batch_size])
    return len(ids)
