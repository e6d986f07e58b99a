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
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
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


def _text_problem(model: type[models.Model], values: Mapping[str, Any]) -> str:
    """A text value that is not text, or longer than its column."""
    for name, value in values.items():
        model_field = model._meta.get_field(name)  # a name or an attname ("customer_id")
        if not isinstance(model_field, models.CharField | models.TextField):
            continue
        if not isinstance(value, str):
            return _("%(field)s must be text.") % {"field": model_field.verbose_name}
        if model_field.max_length and len(value) > model_field.max_length:
            return _("%(field)s is longer than %(max)d characters.") % {
                "field": str(model_field.verbose_name).capitalize(),
                "max": model_field.max_length,
            }
    return ""


def _customer_problem(values: Mapping[str, Any], *, new: bool) -> str:
    if (new or "display_name" in values) and not str(values.get("display_name") or "").strip():
        return _("A customer needs a display name.")
    problem = _text_problem(Customer, values)
    if problem:
        return problem
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
    if "customer_type" in values and values["customer_type"] not in Customer.Type.values:
        return _("%(value)s is not a customer type.") % {"value": values["customer_type"]}
    if "currency" in values and values["currency"] not in _CURRENCIES:
        return _("%(value)s is not a currency billing uses.") % {"value": values["currency"]}
    if "origin" in values and values["origin"] not in Customer.Origin.values:
        return _("%(value)s is not a customer origin.") % {"value": values["origin"]}
    return contact_details_problem(values)


def _contact_person_problem(values: Mapping[str, Any], *, new: bool) -> str:
    if (new or "first_name" in values) and not str(values.get("first_name") or "").strip():
        return _("A contact person needs a name.")
    if new and not values.get("customer_id"):
        return _("A contact person belongs to a customer.")
    return _text_problem(ContactPerson, values) or contact_details_problem(values)


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


@transaction.atomic
def save_customer_page(*, rows: Sequence[PageRow]) -> PageResult:
    """Create and change up to 200 customers in one transaction, each row checked first.

    New rows may also give `customer_type`, `currency` and `origin` (else the model's defaults); a
    change never alters those. Changed customers are locked and stamped `updated_at`. Refused rows
    (and changes of customers that no longer exist) are reported in the result; the others are written.
    Raises ValueError for more than 200 rows or a field an import may not set.
    """
    _check_size(rows)
    _check_names(rows, allowed=CUSTOMER_FIELDS, on_create=CUSTOMER_CREATE_FIELDS)
    result = PageResult(pks=[None] * len(rows))
    now = timezone.now()
    existing = {row.pk for row in rows if row.pk is not None}
    if existing:
        existing = set(Customer.objects.select_for_update().filter(pk__in=existing).values_list("pk", flat=True))
    new: list[tuple[int, dict[str, Any]]] = []
    changes: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        if row.pk is not None and row.pk not in existing:
            result.problems[index] = _("The customer no longer exists in billing.")
            continue
        problem = _customer_problem(row.values, new=row.pk is None)
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


@transaction.atomic
def save_contact_person_page(*, rows: Sequence[PageRow]) -> PageResult:
    """Create and change up to 200 contact persons in one transaction, each row checked first.

    A new row names its customer (`customer_id`); a change may move a person to another customer,
    where it is not the primary contact (one primary per customer). The first new contact person of
    a customer without a primary becomes its primary. Refused rows are reported in the result; the
    others are written. Raises ValueError for more than 200 rows or a field an import may not set.
    """
    _check_size(rows)
    _check_names(rows, allowed=CONTACT_PERSON_FIELDS, on_create=frozenset())
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
    wanted_customers = {row.values["customer_id"] for row in rows if row.values.get("customer_id")}
    has_primary = dict(
        Customer.objects.filter(pk__in=wanted_customers)
        .annotate(has_primary=Exists(ContactPerson.objects.filter(customer=OuterRef("pk"), is_primary=True)))
        .values_list("pk", "has_primary")
    )
    new: list[tuple[int, dict[str, Any]]] = []
    changes: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(rows):
        values = dict(row.values)
        if row.pk is not None and row.pk not in current:
            result.problems[index] = _("The contact person no longer exists in billing.")
            continue
        problem = _contact_person_problem(values, new=row.pk is None)
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


@transaction.atomic
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


@transaction.atomic
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
