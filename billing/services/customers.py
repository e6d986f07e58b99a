"""Writes to customers: hierarchy links, groups, portal access."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Customer, CustomerGroup

# Zoho's limit for bulk actions on customers; it keeps one admin click to one short transaction.
BULK_ACTION_LIMIT = 50


def check_bulk_size(customer_ids: list[int]) -> None:
    """Refuse an empty selection or more than 50 customers (the admin checks before its group page)."""
    if not customer_ids:
        raise ValidationError(_("Select at least one customer."), code="nothing_selected")
    if len(customer_ids) > BULK_ACTION_LIMIT:
        raise ValidationError(
            _("Select at most %(limit)d customers at a time; %(count)d were selected."),
            code="too_many_selected", params={"limit": BULK_ACTION_LIMIT, "count": len(customer_ids)},
        )


# Any number for pg_advisory_xact_lock, the same wherever the hierarchy changes.
_HIERARCHY_LOCK = 0x62696C6C  # "bill"


def lock_hierarchy() -> None:
    """Queue hierarchy changes one behind the other until the caller's transaction ends.

    Locking the two rows of a link is not enough: linking X under Y and P under Q at the same
    time touches four rows, and with Y below P and Q below X the two links close a loop that
    neither cycle check saw. Links are rare, so one lock for all of them costs nothing.
    SQLite serialises writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_HIERARCHY_LOCK])


@transaction.atomic
def link_to_parent(*, customer: Customer, parent: Customer, allow_parent_access: bool = True) -> Customer:
    """Make `customer` a branch of `parent`. Atomic; raises ValidationError on any hierarchy rule.

    Hierarchy changes queue behind one lock (`lock_hierarchy`), so the cycle check always sees
    every link committed before it.
    """
    lock_hierarchy()
    rows = Customer.objects.select_for_update().filter(pk__in=[customer.pk, parent.pk]).order_by("pk")
    locked = {c.pk: c for c in rows}
    if parent.pk not in locked:
        raise ValidationError(_("That parent customer no longer exists."), code="parent_missing")
    customer = locked[customer.pk]
    customer.parent = locked[parent.pk]
    customer.allow_parent_access = allow_parent_access
    customer.full_clean()
    customer.save(update_fields=["parent", "allow_parent_access", "updated_at"])
    return customer


@transaction.atomic
def unlink_from_parent(*, customer: Customer) -> Customer:
    """Detach a branch from its parent. Its own transactions stay with it."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    customer.parent = None
    customer.save(update_fields=["parent", "updated_at"])
    return customer


@transaction.atomic
def add_customers_to_group(*, customer_ids: Iterable[int], group: CustomerGroup) -> int:
    """Put up to 50 customers in a group; they take its terms at once (nothing is copied).

    Returns how many customers changed group.
    """
    customer_ids = list(customer_ids)
    check_bulk_size(customer_ids)
    # update() skips auto_now: set updated_at so the CRM push-back sees the change.
    return (Customer.objects.filter(pk__in=customer_ids).exclude(group=group)
            .update(group=group, updated_at=timezone.now()))


@transaction.atomic
def remove_customers_from_group(*, customer_ids: Iterable[int]) -> int:
    """Take up to 50 customers out of their groups; they fall back to the organisation defaults.

    Returns how many customers left a group.
    """
    customer_ids = list(customer_ids)
    check_bulk_size(customer_ids)
    return (Customer.objects.filter(pk__in=customer_ids, group__isnull=False)
            .update(group=None, updated_at=timezone.now()))
