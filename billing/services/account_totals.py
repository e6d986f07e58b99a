"""Keeping `AccountBalance` rows true: every ledger action recomputes the rows of the accounts it
changed, from the documents, before its transaction commits.

Which accounts changed is not something a service has to remember: the ledger models report every
write of their rows (`billing.models.bookkeeping`: `save`, `delete`, `bulk_create`, `bulk_update`,
`update`), naming the row's customers. A ledger service runs inside `ledger_action()`, a
`transaction.atomic` that collects those accounts; when the outermost action's block ends without an
error, their rows are locked in customer-id order (after every document lock the action took, so
two actions cannot wait on each other) and recomputed in a new statement, which sees whatever
another action committed while this one waited for the lock. Recomputing (rather than adding
differences) makes naming an account too many times harmless; `manage.py check_ledger` proves the
rows right.

"Outermost" is read from Django's own atomic state, not a counter of ours: an action is current
while the atomic block it opened is on the connection's stack. Django runs on-commit callbacks after
that block has left the stack, so an action started by one (a sandbox event delivered after commit)
is an outermost action of its own and refreshes what it changed.
"""

from collections.abc import Iterable
from contextlib import contextmanager

from django.db import transaction
from django.utils import timezone

from billing.models import AccountBalance, Customer, StatementMonth
from billing.models.bookkeeping import accounts_changed, begin_action, current_action, end_action
from billing.selectors.accounts import KEPT_FIGURES, account_figures
from billing.selectors.statements.months import statement_months


@contextmanager
def ledger_action():
    """`transaction.atomic()` for a business action on the ledger (usable as a decorator).

    Nested actions share the outermost one's set of changed accounts; it refreshes them once, last,
    inside its own transaction.
    """
    if current_action() is not None:
        with transaction.atomic():
            yield
        return
    block = transaction.atomic()
    with block:
        state = begin_action(block)
        try:
            yield
            if state.accounts:
                refresh_account_totals(customer_ids=state.accounts)
        finally:
            end_action(state)


def touch_accounts(*customer_ids: int | None) -> None:
    """Name accounts whose figures changed by a write the ledger models cannot see (raw SQL).

    Writes through the models name their accounts themselves. Outside a ledger action the rows are
    refreshed at once."""
    accounts_changed(customer_ids)


def refresh_account_totals(*, customer_ids: Iterable[int]) -> None:
    """Recompute the `AccountBalance` and `StatementMonth` rows of these customers from their documents
    (caller is atomic).

    Six to nine queries whatever the number of accounts: create missing balance rows, lock them, the
    figures (two queries), one bulk update; the months kept, then only the months that changed are
    deleted, updated or created. The balance rows' lock also serialises the months' writes."""
    ids = sorted(set(customer_ids))
    AccountBalance.objects.bulk_create([AccountBalance(customer_id=pk) for pk in ids], ignore_conflicts=True)
    rows = list(AccountBalance.objects.select_for_update().filter(customer_id__in=ids).order_by("customer_id"))
    months = statement_months(customer_ids=ids)
    figures = account_figures(customer_ids=ids, months=months)
    now = timezone.now()
    for row in rows:
        row.updated_at = now
        for name in KEPT_FIGURES:
            setattr(row, name, getattr(figures[row.customer_id], name))
    AccountBalance.objects.bulk_update(rows, [*KEPT_FIGURES, "updated_at"])
    _write_months(ids, months)


def _write_months(ids: list[int], months: dict) -> None:
    kept = {
        (row.customer_id, row.month, row.kind): row
        for row in StatementMonth.objects.filter(customer_id__in=ids)
    }
    gone = [row.pk for key, row in kept.items() if key not in months]
    changed = []
    for key, (amount, lines) in months.items():
        row = kept.get(key)
        if row is not None and (row.amount, row.lines) != (amount, lines):
            row.amount, row.lines = amount, lines
            changed.append(row)
    if gone:
        StatementMonth.objects.filter(pk__in=gone).delete()
    if changed:
        StatementMonth.objects.bulk_update(changed, ["amount", "lines"])
    StatementMonth.objects.bulk_create(
        [StatementMonth(customer_id=cid, month=month, kind=kind, amount=amount, lines=lines)
         for (cid, month, kind), (amount, lines) in months.items() if (cid, month, kind) not in kept]
    )


def rebuild_account_totals(*, batch_size: int = 500) -> int:
    """Recompute every customer's row (after loading data without the services, or to repair).

    Returns the number of accounts refreshed. Batches keep each transaction short."""
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            refresh_account_totals(customer_ids=ids[start : start + batch_size])
    return len(ids)
