"""Customers and contact persons a page at a time, for imports that bring hundreds at once.

An integration (the CRM sync reads pages of 200 records) creates, changes and removes customers and
contact persons only through these services; it keeps its own links to them (their ids) in its own
tables. Each call is one transaction and costs a fixed number of queries whatever the page holds:
values are checked here (lengths, required names, emails and websites, payment terms) without a
`full_clean()` per row, new rows go in with one INSERT (`billing.bulk.insert_rows`), changed rows
with one UPDATE per set of fields.

A row that breaks a rule is refused with a readable reason and the rest of the page is written:
an import records the reason against its record instead of losing the page. A row naming a field an
import may not set is a programming error (ValueError), not bad input.

Called outside a transaction, each service is one. Inside the caller's (an import applies a page in
one) it joins it without a savepoint: the page is written whole or not at all anyway, and a
savepoint per call would cost two more round trips per page.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.bulk import insert_rows
from billing.models import ContactPerson, Customer
from billing.money import CURRENCY_CHOICES
from billing.selectors.customers import customers_with_branches, customers_with_transactions
from billing.validators import contact_details_problem

PAGE_LIMIT = 200

# What an import may set on a customer. Not the hierarchy, group, portal or pricing overrides (the
# payment terms apart): those are decided in billing.
CUSTOMER_FIELDS = frozenset({
    "display_name", "company_name", "email", "phone", "website", "billing_address", "shipping_address",
    "tax_id", "payment_terms_days", "notes", "custom_fields",
})  # fmt: skip
# Given when a customer is created, never changed by an import afterwards.
CUSTOMER_CREATE_FIELDS = frozenset({"customer_type", "currency", "origin"})
CONTACT_PERSON_FIELDS = frozenset({
    "customer_id", "salutation", "first_name", "last_name", "email", "phone", "mobile", "designation",
})  # fmt: skip
MAX_PAYMENT_TERMS_DAYS = 365
_CURRENCIES = frozenset(code for code, _label in CURRENCY_CHOICES)
_CUSTOMER_TYPES = frozenset(Customer.Type.values)
_ORIGINS = frozenset(Customer.Origin.values)
# Text columns by name: (longest value, label). Checked for every row of every page, so read once.
_TEXT_COLUMNS = {
    model: {
        f.attname: (f.max_length, str(f.verbose_name).capitalize())
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
    }
    for model in (Customer, ContactPerson)
}


@dataclass(frozen=True)
class PageRow:
    """One customer or contact person of a page: a new one when `pk` is None, else the one to change
    (only the fields named in `values` change)."""

    values: Mapping[str, Any]
    pk: int | None = None


@dataclass
class PageResult:
    """What became of each row of a page, in the page's order: its primary key (the new one for a
    created row), or None when it was refused, with the reason in `problems[index]`."""

    pks: list[int | None]
    problems: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerRemoval:
    deleted: set[int]
    kept_with_transactions: set[int]
    kept_with_branches: set[int]


@dataclass(frozen=True)
class ContactPersonRemoval:
    deleted: set[int]
    kept_with_login: set[int]


def _check_size(rows: Sequence) -> None:
    if len(rows) > PAGE_LIMIT:
        raise ValueError(f"a page holds at most {PAGE_LIMIT} rows; {len(rows)} were given")


def _check_names(rows: Sequence[PageRow], *, allowed: frozenset[str], on_create: frozenset[str]) -> None:
    for row in rows:
        wrong = set(row.values) - allowed - (on_create if row.pk is None else frozenset())
        if wrong:
            raise ValueError(f"an import may not set {', '.join(sorted(wrong))}")


def _text_problems(model: type[models.Model], rows: Sequence[PageRow]) -> dict[int, str]:
    """Per row index, a text value that is not text or is longer than its column.

    Column by column over the page (types and lengths measured by builtins), and row by row only
    for a column that fails: every row of every imported page passes through here.
    """
    columns = _TEXT_COLUMNS[model]
    problems: dict[int, str] = {}
    for name in set().union(*(row.values for row in rows)) & columns.keys():
        limit, label = columns[name]
        values = [row.values.get(name, "") for row in rows]
        if set(map(type, values)) <= {str} and (not limit or max(map(len, values)) <= limit):
            continue
        for index, value in enumerate(values):
            if not isinstance(value, str):
                problems.setdefault(index, _("%(field)s must be text.") % {"field": label})
            elif limit and len(value) > limit:
                problems.setdefault(
                    index, _("%(field)s is longer than %(max)d characters.") % {"field": label, "max": limit}
                )
    return problems


def _customer_problem(values: Mapping[str, Any], *, new: bool) -> str:
    if (new or "display_name" in values) and not str(values.get("display_name") or "").strip():
        return _("A customer needs a display name.")
    terms = values.get("payment_terms_days")
    if terms is not None and (
        isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= MAX_PAYMENT_TERMS_DAYS
    ):
        return _("Payment terms %(value)s is not a number of days between 0 and %(max)d.") % {
            "value": terms,
            "max": MAX_PAYMENT_TERMS_DAYS,
        }
    if "custom_fields" in values and not isinstance(values["custom_fields"], dict):
        return _("Custom fields must be a set of named values.")
    if "customer_type" in values and values["customer_type"] not in _CUSTOMER_TYPES:
        return _("%(value)s is not a customer type.") % {"value": values["customer_type"]}
    if "currency" in values and values["currency"] not in _CURRENCIES:
        return _("%(value)s is not a currency billing uses.") % {"value": values["currency"]}
    if "origin" in values and values["origin"] not in _ORIGINS:
        return _("%(value)s is not a customer origin.") % {"value": values["origin"]}
    return contact_details_problem(values)


def _contact_person_problem(values: Mapping[str, Any], *, new: bool) -> str:
    if (new or "first_name" in values) and not str(values.get("first_name") or "").strip():
        return _("A contact person needs a name.")
    if new and not values.get("customer_id"):
        return _("A contact person belongs to a customer.")
    return contact_details_problem(values)


def _customers_with_primary(*, customer_ids: list[int]) -> dict[int, bool]:
    """Which of these customers exist, and whether each has a primary contact person. One query,
    the ids passed as one array (an IN list of 200 parameters cost more to build than to run)."""
    if not customer_ids:
        return {}
    if connection.vendor != "postgresql":
        primary = ContactPerson.objects.filter(customer_id=OuterRef("pk"), is_primary=True)
        return dict(
            Customer.objects.filter(pk__in=customer_ids).annotate(p=Exists(primary)).values_list("pk", "p")
        )
    sql = (
        f"SELECT c.id, EXISTS (SELECT 1 FROM {ContactPerson._meta.db_table} p "
        f"WHERE p.customer_id = c.id AND p.is_primary) FROM {Customer._meta.db_table} c WHERE c.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(set(customer_ids))])
        return dict(cursor.fetchall())


def _with_defaults(model: type[models.Model], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same names in every row (`insert_rows` needs them): a name some rows leave out takes the
    field's default in those rows."""
    names = {name for row in rows for name in row}
    if all(len(row) == len(names) for row in rows):
        return rows
    defaults = {name: model._meta.get_field(name).get_default() for name in names}
    return [{**defaults, **row} for row in rows]


def _update(model: type[models.Model], changes: list[tuple[int, dict[str, Any]]]) -> None:
    """One bulk UPDATE per set of changed fields (a field a row does not name keeps its value)."""
    by_fields: dict[frozenset[str], list[models.Model]] = {}
    for pk, values in changes:
        by_fields.setdefault(frozenset(values), []).append(model(pk=pk, **values))
    for names, objs in by_fields.items():
        model._default_manager.bulk_update(objs, sorted(names))


def save_customer_page(*, rows: Sequence[PageRow]) -> PageResult:
    """Create and change up to 200 customers in one transaction, each row checked first.

    New rows may also give `customer_type`, `currency` and `origin` (else the model's defaults); a
    change never alters those. Changed customers are locked and stamped `updated_at`. Refused rows
    (and changes of customers that no longer exist) are reported in the result; the others are written.
    Raises ValueError for more than 200 rows or a field an import may not set.
    """
    _check_size(rows)
    _check_names(rows, allowed=CUSTOMER_FIELDS, on_create=CUSTOMER_CREATE_FIELDS)
    return _save_customers(rows)


@transaction.atomic(savepoint=False)  # see the module docstring
def _save_customers(rows: Sequence[PageRow]) -> PageResult:
    result = PageResult(pks=[None] * len(rows))
    now = timezone.now()
    existing = {row.pk for row in rows if row.pk is not None}
    if existing:
        existing = set(Customer.objects.select_for_update().filter(pk__in=existing).values_list("pk", flat=True))
    new: list[tuple[int, dict[str, Any]]] = []
    changes: list[tuple[int, dict[str, Any]]] = []
    text_problems = _text_problems(Customer, rows)
    for index, row in enumerate(rows):
        if row.pk is not None and row.pk not in existing:
            result.problems[index] = _("The customer no longer exists in billing.")
            continue
        problem = text_problems.get(index) or _customer_problem(row.values, new=row.pk is None)
        if problem:
            result.problems[index] = problem
            continue
        if row.pk is None:
            new.append((index, dict(row.values)))  # created_at and updated_at: now, as auto_now fields
        else:
            changes.append((row.pk, {**row.values, "updated_at": now}))
            result.pks[index] = row.pk
    created = insert_rows(Customer, _with_defaults(Customer, [values for _i, values in new]))
    for (index, _values), pk in zip(new, created, strict=True):
        result.pks[index] = pk
    _update(Customer, changes)
    return result


def save_contact_person_page(*, rows: Sequence[PageRow]) -> PageResult:
    """Create and change up to 200 contact persons in one transaction, each row checked first.

    A new row names its customer (`customer_id`); a change may move a person to another customer,
    where it is not the primary contact (one primary per customer). The first new contact person of
    a customer without a primary becomes its primary. Refused rows are reported in the result; the
    others are written. Raises ValueError for more than 200 rows or a field an import may not set.
    """
    _check_size(rows)
    _check_names(rows, allowed=CONTACT_PERSON_FIELDS, on_create=frozenset())
    return _save_contact_persons(rows)


@transaction.atomic(savepoint=False)  # see the module docstring
def _save_contact_persons(rows: Sequence[PageRow]) -> PageResult:
    result = PageResult(pks=[None] * len(rows))
    changed = {row.pk for row in rows if row.pk is not None}
    current = {}
    if changed:
        current = {
            pk: (customer_id, is_primary)
            for pk, customer_id, is_primary in ContactPerson.objects.select_for_update()
            .filter(pk__in=changed)
            .values_list("pk", "customer_id", "is_primary")
        }
    has_primary = _customers_with_primary(
        customer_ids=[row.values["customer_id"] for row in rows if row.values.get("customer_id")]
    )
    new: list[tuple[int, dict[str, Any]]] = []
    changes: list[tuple[int, dict[str, Any]]] = []
    text_problems = _text_problems(ContactPerson, rows)
    for index, row in enumerate(rows):
        values = dict(row.values)
        if row.pk is not None and row.pk not in current:
            result.problems[index] = _("The contact person no longer exists in billing.")
            continue
        problem = text_problems.get(index) or _contact_person_problem(values, new=row.pk is None)
        if not problem and "customer_id" in values and values["customer_id"] not in has_primary:
            problem = _("The contact person's customer no longer exists in billing.")
        if problem:
            result.problems[index] = problem
            continue
        if row.pk is None:
            values["is_primary"] = not has_primary[values["customer_id"]]
            has_primary[values["customer_id"]] = True
            new.append((index, values))
            continue
        customer_id, is_primary = current[row.pk]
        if values.get("customer_id", customer_id) != customer_id and is_primary:
            values["is_primary"] = False  # moved: the new customer keeps its own primary contact
        changes.append((row.pk, values))
        result.pks[index] = row.pk
    created = insert_rows(ContactPerson, _with_defaults(ContactPerson, [values for _i, values in new]))
    for (index, _values), pk in zip(new, created, strict=True):
        result.pks[index] = pk
    _update(ContactPerson, changes)
    return result


@transaction.atomic(savepoint=False)  # see the module docstring
def delete_customers(*, customer_ids: Iterable[int]) -> CustomerRemoval:
    """Delete customers an import no longer has, with their contact persons; never one with
    transactions or branches (kept, and reported as such). Ids already gone are ignored.

    The customers are locked first, so an invoice or a branch added meanwhile either is seen by
    the check or waits for this transaction.
    """
    ids = set(Customer.objects.select_for_update().filter(pk__in=list(customer_ids)).values_list("pk", flat=True))
    with_transactions = customers_with_transactions(customer_ids=ids)
    with_branches = customers_with_branches(customer_ids=ids - with_transactions)
    doomed = ids - with_transactions - with_branches
    if doomed:
        Customer.objects.filter(pk__in=doomed).delete()
    return CustomerRemoval(deleted=doomed, kept_with_transactions=with_transactions, kept_with_branches=with_branches)


@transaction.atomic(savepoint=False)  # see the module docstring
def delete_contact_persons(*, contact_ids: Iterable[int]) -> ContactPersonRemoval:
    """Delete contact persons an import no longer has; never one with a portal login (kept, and
    reported as such). Ids already gone are ignored."""
    rows = dict(
        ContactPerson.objects.select_for_update().filter(pk__in=list(contact_ids)).values_list("pk", "user_id")
    )
    kept = {pk for pk, user_id in rows.items() if user_id is not None}
    doomed = set(rows) - kept
    if doomed:
        ContactPerson.objects.filter(pk__in=doomed).delete()
    return ContactPersonRemoval(deleted=doomed, kept_with_login=kept)
