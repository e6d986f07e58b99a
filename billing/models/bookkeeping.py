"""Kept account figures by construction: every write of a ledger row names the accounts it changes.

`AccountBalance` holds figures derived from the ledger's rows (invoices, payments, credit notes,
applications, reversals, refunds). Instead of each service remembering to say which accounts it
changed, the ledger models say it themselves, in the few places Django writes rows:

- `LedgerRow.save()` and `.delete()` (one object),
- `LedgerQuerySet.bulk_create()`, `.bulk_update()`, `.update()` and `.delete()` (many rows; the
  queryset forms read the affected accounts first, in one query).

Each names the row's accounts (`ACCOUNT_FIELDS`: the customer, or both customers of an
application row) to `accounts_changed()`. Inside a ledger action
(`billing.services.account_totals.ledger_action`) the ids are collected and the rows recomputed once,
just before that action's transaction commits; outside one they are recomputed at once, in the
caller's transaction. So a new service, an admin action, a data fix in the shell or a task that
writes a ledger row keeps the figures true without knowing they exist, and `check_ledger` remains
the proof.

A write that names only columns no figure reads (`FIGURE_NEUTRAL_FIELDS`: references, notes,
timestamps) skips the bookkeeping. Writes that bypass the ORM (raw SQL, data migrations on historical models,
bulk loads) must be followed by `manage.py rebuild_account_totals`.

The bulk writes also send `billing.signals.ledger_rows_written` with the ids they wrote (Django
sends `post_save` for `save()` only), for apps that follow the ledger without billing knowing them.

The state of the current ledger action lives on the database connection (Django's connections are
per thread) and is tied to the atomic block the action opened: an action is "current" only while
that block is still on the connection's stack. Callbacks that Django runs on commit run after the
block has left the stack, so a ledger action started there is an outermost action of its own and
refreshes what it touched, instead of adding to a set that is about to be thrown away.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import models, transaction

from billing.signals import ledger_rows_written

_STATE = "_billing_ledger_action"
# Django's bulk_update() writes through queryset update(); bulk_update() announces its rows itself.
_IN_BULK_UPDATE: ContextVar[bool] = ContextVar("billing_ledger_in_bulk_update", default=False)


@dataclass
class LedgerActionState:
    """The accounts touched by the outermost ledger action running on one connection."""

    block: transaction.Atomic
    accounts: set[int] = field(default_factory=set)
    previous: LedgerActionState | None = None


def current_action(using: str | None = None) -> LedgerActionState | None:
    """The ledger action whose atomic block is open on this connection now, if any."""
    connection = transaction.get_connection(using)
    state = getattr(connection, _STATE, None)
    while state is not None and not any(block is state.block for block in connection.atomic_blocks):
        state = state.previous  # a finished action left behind (cannot happen via ledger_action)
    return state


def begin_action(block: transaction.Atomic, using: str | None = None) -> LedgerActionState:
    """Record that `block` (already entered) is the outermost ledger action on this connection."""
    connection = transaction.get_connection(using)
    state = LedgerActionState(block=block, previous=getattr(connection, _STATE, None))
    setattr(connection, _STATE, state)
    return state


def end_action(state: LedgerActionState, using: str | None = None) -> None:
    setattr(transaction.get_connection(using), _STATE, state.previous)


def accounts_changed(customer_ids: Iterable[int | None]) -> None:
    """These accounts' figures may have changed in the current transaction (None ids are ignored)."""
    ids = {pk for pk in customer_ids if pk is not None}
    if not ids:
        return
    state = current_action()
    if state is not None:
        state.accounts |= ids
        return
    # Outside a ledger action (a factory, the shell, an admin save): recompute now, in the caller's
    # transaction. Imported here: the figures are computed by selectors, which import these models.
    from billing.services.account_totals import refresh_account_totals

    with transaction.atomic():
        refresh_account_totals(customer_ids=ids)


def _changes_figures(model, fields: Iterable[str] | None) -> bool:
    if fields is None:
        return True
    neutral = model.FIGURE_NEUTRAL_FIELDS
    return any(name not in neutral for name in fields)


def _accounts_of(model, objs: Iterable[models.Model]) -> set[int | None]:
    attnames = [model._meta.get_field(name).attname for name in model.ACCOUNT_FIELDS]
    return {getattr(obj, attname) for obj in objs for attname in attnames}


class LedgerQuerySet(models.QuerySet):
    """Bulk writes of ledger rows that keep the account figures of the rows they change."""

    def _accounts_in_rows(self) -> set[int | None]:
        ids: set[int | None] = set()
        for values in self.order_by().values_list(*self.model.ACCOUNT_FIELDS).distinct():
            ids.update(values)
        return ids

    def _written(self, pks) -> None:
        pks = [pk for pk in pks if pk is not None]
        if pks:
            ledger_rows_written.send(sender=self.model, pks=pks)

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        accounts_changed(_accounts_of(self.model, created))
        self._written(obj.pk for obj in created)
        return created

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        token = _IN_BULK_UPDATE.set(True)
        try:
            count = super().bulk_update(objs, fields, *args, **kwargs)
        finally:
            _IN_BULK_UPDATE.reset(token)
        if _changes_figures(self.model, fields):
            # The rows as the caller holds them: a moved row's old customer is not known here.
            accounts_changed(_accounts_of(self.model, objs))
        self._written(obj.pk for obj in objs)
        return count

    def update(self, **kwargs):
        # The ids are read first only when someone follows the writes (one query).
        follow = not _IN_BULK_UPDATE.get() and ledger_rows_written.has_listeners(self.model)
        pks = list(self.order_by().values_list("pk", flat=True)) if follow else []
        if not _changes_figures(self.model, kwargs):
            count = super().update(**kwargs)
            self._written(pks)
            return count
        before = self._accounts_in_rows()
        count = super().update(**kwargs)
        moved = {kwargs[name] for name in self.model.ACCOUNT_FIELDS if name in kwargs}
        moved |= {kwargs[f"{name}_id"] for name in self.model.ACCOUNT_FIELDS if f"{name}_id" in kwargs}
        accounts_changed(before | {getattr(value, "pk", value) for value in moved})
        self._written(pks)
        return count

    def delete(self):
        before = self._accounts_in_rows()
        result = super().delete()
        accounts_changed(before)
        return result

    delete.alters_data = True
    delete.queryset_only = True
    update.alters_data = True


class LedgerRow(models.Model):
    """A ledger row: saving or deleting it keeps its accounts' figures (see the module docstring)."""

    #: the foreign keys to the customers whose figures this row counts in
    ACCOUNT_FIELDS: tuple[str, ...] = ("customer",)
    #: columns no kept figure reads: writing only these skips the bookkeeping
    FIGURE_NEUTRAL_FIELDS: frozenset[str] = frozenset()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if _changes_figures(type(self), kwargs.get("update_fields")):
            accounts_changed(_accounts_of(type(self), [self]) | getattr(self, "_loaded_accounts", set()))
        self._loaded_accounts = _accounts_of(type(self), [self])

    save.alters_data = True

    def delete(self, *args, **kwargs):
        accounts = _accounts_of(type(self), [self]) | getattr(self, "_loaded_accounts", set())
        result = super().delete(*args, **kwargs)
        accounts_changed(accounts)
        return result

    delete.alters_data = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_accounts = _accounts_of(cls, [instance]) if _has_account_fields(instance) else set()
        return instance


def _has_account_fields(instance) -> bool:
    deferred = instance.get_deferred_fields()
    return not any(instance._meta.get_field(name).attname in deferred for name in instance.ACCOUNT_FIELDS)
