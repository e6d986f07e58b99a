"""Applying one page of CRM records to billing, in batches: a fixed number of queries per page.

Each function runs inside the caller's per-page transaction and returns the page's counts and
failures; nothing here talks to the CRM.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from billing.models import ContactPerson, Customer
from crmsync.bulk import insert_rows
from crmsync.mapping import (
    ACCOUNTS,
    CONTACTS,
    CUSTOM_PREFIX,
    EDIT_TOLERANCE,
    NAME_FIELD,
    Mapped,
    account_id_of,
    invalid_values,
    map_contact_person,
    map_customer,
)
from crmsync.models import CrmConnection, SyncFailure
from crmsync.selectors import customers_with_branches, customers_with_transactions


@dataclass
class Counts:
    """Counts of one page (or run). `added` includes clones, `updated` overwritten duplicates,
    `skipped` skipped duplicates; the duplicate counters break those down."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unlinked: int = 0
    skipped: int = 0
    failed: int = 0
    duplicates_cloned: int = 0
    duplicates_overwritten: int = 0
    duplicates_skipped: int = 0
    pushed_added: int = 0
    pushed_updated: int = 0
    failures: list[SyncFailure] = field(default_factory=list)

    def fail(
        self,
        *,
        module: str,
        crm_id: str = "",
        name: str = "",
        reason: str,
        direction: str = SyncFailure.Direction.FETCH,
        customer_id: int | None = None,
    ) -> None:
        self.failed += 1
        self.failures.append(
            SyncFailure(
                module=module,
                crm_id=crm_id,
                record_name=name[:255],
                reason=reason,
                direction=direction,
                customer_id=customer_id,
            )
        )

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "failures"}

    @property
    def writes(self) -> int:
        return self.added + self.updated + self.deleted + self.unlinked + self.pushed_added + self.pushed_updated


def _billing_edit_is_newer(row: dict, item: Mapped) -> bool:
    """Edited in billing since its last sync while the CRM record has not changed since then.

    When both changed, the CRM wins (it is fetched first, as Zoho does).
    """
    synced = row["crm_synced_at"]
    if synced is None or row["updated_at"] <= synced + EDIT_TOLERANCE:
        return False
    return item.modified_at is not None and item.modified_at <= synced


def _key(module: str) -> str:
    return "crm_account_id" if module == ACCOUNTS else "crm_contact_id"


def apply_customer_page(
    *,
    records: list[dict[str, Any]],
    module: str,
    pairs: list[tuple[str, str]],
    duplicate_policy: str,
    currency: str,
    now: datetime,
) -> Counts:
    """CRM Accounts (→ Business) or Contacts (→ Individual) into customers, mapped fields only.

    Three reads (by CRM id, by display name for duplicates) and at most two writes per page.
    Unchanged customers are not written at all.
    """
    counts = Counts()
    key = _key(module)
    customer_type = Customer.Type.BUSINESS if module == ACCOUNTS else Customer.Type.INDIVIDUAL
    targets = sorted({t for _c, t in pairs if not t.startswith(CUSTOM_PREFIX)})
    mapped: dict[str, Mapped] = {}
    for record in records:
        item = map_customer(record, pairs, module=module, validate=False)
        if item.error:
            counts.fail(
                module=module,
                crm_id=item.crm_id,
                name=item.name or str(record.get(NAME_FIELD[module]) or record.get("id")),
                reason=item.error,
            )
        else:
            mapped[item.crm_id] = item
    existing = {
        row[key]: row
        for row in Customer.objects.filter(**{f"{key}__in": list(mapped)}).values(
            "pk", key, "custom_fields", "updated_at", "crm_synced_at", *targets
        )
    }
    new = [m for m in mapped.values() if m.crm_id not in existing]
    twins: dict[str, list[dict]] = {}
    if new:
        for row in (
            Customer.objects.filter(display_name__in={m.name for m in new}, **{f"{key}__isnull": True})
            .order_by("pk")
            .values("pk", "display_name", "custom_fields", *targets)
        ):
            twins.setdefault(row["display_name"], []).append(row)

    to_create: list[dict[str, Any]] = []
    to_update: list[Customer] = []

    def updated_customer(row: dict, item: Mapped) -> Customer | None:
        custom = {**row["custom_fields"], **item.custom}
        if (
            custom == row["custom_fields"]
            and all(row[t] == item.values[t] for t in targets)
            and row.get(key) == item.crm_id
        ):
            return None
        return Customer(
            pk=row["pk"],
            **{t: item.values[t] for t in targets},
            custom_fields=custom,
            crm_synced_at=now,
            updated_at=now,
            **{key: item.crm_id},
        )

    def rejected(item: Mapped) -> bool:
        # Checked only for rows about to be written: an unchanged record costs no regex work.
        error = invalid_values(item.values)
        if error:
            counts.fail(module=module, crm_id=item.crm_id, name=item.name, reason=error)
        return bool(error)

    for item in mapped.values():
        row = existing.get(item.crm_id)
        if row is not None:
            if _billing_edit_is_newer(row, item):
                continue  # pushed in both-ways mode; an unchanged CRM record must not undo it
            changed = updated_customer(row, item)
            if changed is not None and not rejected(item):
                to_update.append(changed)
                counts.updated += 1
            continue
        same_name = twins.get(item.name)
        if same_name and duplicate_policy == CrmConnection.DuplicatePolicy.SKIP:
            counts.skipped += 1
            counts.duplicates_skipped += 1
            continue
        if rejected(item):
            continue
        if same_name and duplicate_policy == CrmConnection.DuplicatePolicy.OVERWRITE:
            to_update.append(updated_customer({**same_name.pop(0), key: None}, item))
            counts.updated += 1
            counts.duplicates_overwritten += 1
            continue
        if same_name:
            counts.duplicates_cloned += 1
        values = {t: item.values[t] for t in targets}
        if module == ACCOUNTS:
            values.setdefault("company_name", item.values["company_name"])
        to_create.append(
            dict(
                **values,
                customer_type=customer_type,
                currency=currency,
                origin=Customer.Origin.CRM,
                custom_fields=item.custom,
                crm_synced_at=now,
                updated_at=now,
                **{key: item.crm_id},
            )
        )
        counts.added += 1
    # The lock keeps runs apart; the conflict clause covers a staff import of the same record
    # racing the page, which would otherwise fail the whole page on the unique CRM id.
    insert_rows(
        Customer, to_create, unique_field=key, update_fields=[*targets, "custom_fields", "crm_synced_at", "updated_at"]
    )
    if to_update:
        Customer.objects.bulk_update(to_update, [*targets, "custom_fields", key, "crm_synced_at", "updated_at"])
    return counts


_PERSON_FIELDS = ["first_name", "last_name", "email", "phone", "mobile", "designation", "salutation"]


def apply_contact_person_page(
    *,
    records: list[dict[str, Any]],
    include_orphans: bool,
    pairs: list[tuple[str, str]],
    duplicate_policy: str,
    currency: str,
    now: datetime,
) -> Counts:
    """CRM Contacts of synced accounts into contact persons; orphans into Individuals when asked.

    Contacts of accounts that are not in billing (outside the account view) are out of scope.
    """
    counts = Counts()
    account_ids = {a for a in (account_id_of(r) for r in records) if a}
    customer_by_account = dict(
        Customer.objects.filter(crm_account_id__in=account_ids).values_list("crm_account_id", "pk")
    )
    orphans = []
    people: dict[str, tuple[int, Mapped]] = {}
    for record in records:
        account_id = account_id_of(record)
        if account_id is None:
            if include_orphans:
                orphans.append(record)
            continue
        if account_id not in customer_by_account:
            continue
        item = map_contact_person(record, validate=False)
        if item.error:
            counts.fail(
                module=CONTACTS,
                crm_id=item.crm_id,
                name=str(record.get("Full_Name") or ""),
                reason=item.error,
            )
            continue
        people[item.crm_id] = (customer_by_account[account_id], item)
    existing = {
        row["crm_contact_id"]: row
        for row in ContactPerson.objects.filter(crm_contact_id__in=list(people)).values(
            "pk", "crm_contact_id", "customer_id", "is_primary", *_PERSON_FIELDS
        )
    }
    to_create, to_update = [], []
    for crm_id, (customer_id, item) in people.items():
        row = existing.get(crm_id)
        changed = (
            row is None or row["customer_id"] != customer_id or any(row[f] != item.values[f] for f in _PERSON_FIELDS)
        )
        if not changed:
            continue
        error = invalid_values(item.values)
        if error:
            counts.fail(module=CONTACTS, crm_id=crm_id, name=item.values["first_name"], reason=error)
            continue
        if row is None:
            to_create.append(dict(customer_id=customer_id, crm_contact_id=crm_id, is_primary=False, **item.values))
            counts.added += 1
        else:
            # Moved to another account: it cannot stay primary there (one primary per customer).
            primary = row["is_primary"] and row["customer_id"] == customer_id
            to_update.append(ContactPerson(pk=row["pk"], customer_id=customer_id, is_primary=primary, **item.values))
            counts.updated += 1
    if to_create:
        # The first contact person of a customer without a primary becomes its primary.
        has_primary = set(
            ContactPerson.objects.filter(
                customer_id__in={p["customer_id"] for p in to_create}, is_primary=True
            ).values_list("customer_id", flat=True)
        )
        for person in to_create:
            if person["customer_id"] not in has_primary:
                person["is_primary"] = True
                has_primary.add(person["customer_id"])
        insert_rows(ContactPerson, to_create)
    if to_update:
        ContactPerson.objects.bulk_update(to_update, ["customer_id", "is_primary", *_PERSON_FIELDS])
    if orphans:
        orphan_counts = apply_customer_page(
            records=orphans,
            module=CONTACTS,
            pairs=pairs,
            duplicate_policy=duplicate_policy,
            currency=currency,
            now=now,
        )
        for name, value in orphan_counts.as_dict().items():
            setattr(counts, name, getattr(counts, name) + value)
        counts.failures += orphan_counts.failures
    return counts


def apply_deletions(*, deleted: list[dict[str, Any]], module: str, now: datetime) -> Counts:
    """Records deleted in the CRM: delete their customers, except those with transactions or
    branches, which are unlinked with the reason recorded. Contact persons with a portal login
    are unlinked, others deleted."""
    when = now.date().isoformat()
    return _drop_links(
        ids=[str(d["id"]) for d in deleted],
        module=module,
        now=now,
        reasons={
            "ledger": _("Deleted in Zoho CRM on %(on)s; kept in billing because it has transactions.") % {"on": when},
            "tree": _("Deleted in Zoho CRM on %(on)s; kept in billing because it has branches.") % {"on": when},
            "login": _("Deleted in Zoho CRM on %(on)s; contact person kept because it has a portal login.")
            % {"on": when},
        },
    )


class SeenIds:
    """The CRM ids a full listing returned, compactly: 100,000 numeric Zoho ids take 800 kB."""

    def __init__(self):
        self._numbers = array("Q")
        self._others: set[str] = set()
        self._sorted = True

    def add(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            text = str(record["id"])
            number = self._number(text)
            if number is None:
                self._others.add(text)
            else:
                self._numbers.append(number)
                self._sorted = False

    @staticmethod
    def _number(text: str) -> int | None:
        """The id as an unsigned 64-bit number when it is one written plainly (Zoho's are)."""
        if text.isascii() and text.isdigit() and len(text) < 20 and (text == "0" or text[0] != "0"):
            return int(text)
        return None

    def __contains__(self, crm_id: str) -> bool:
        number = self._number(crm_id)
        if number is None:
            return crm_id in self._others
        if not self._sorted:
            self._numbers = array("Q", sorted(self._numbers))
            self._sorted = True
        at = bisect_left(self._numbers, number)
        return at < len(self._numbers) and self._numbers[at] == number


def unseen_links(*, module: str, seen: SeenIds, linked_before: datetime, contact_persons: bool) -> list[str]:
    """CRM ids linked in billing before `linked_before` that a complete listing of `module` did
    not return. Customers linked after it (a staff import during the run) are left alone."""
    key = _key(module)
    linked = Customer.objects.filter(**{f"{key}__isnull": False}).filter(
        Q(crm_synced_at__isnull=True) | Q(crm_synced_at__lt=linked_before)
    )
    found = [crm_id for crm_id in linked.values_list(key, flat=True).iterator(chunk_size=2000) if crm_id not in seen]
    if contact_persons:
        people = ContactPerson.objects.filter(crm_contact_id__isnull=False).values_list("crm_contact_id", flat=True)
        found += [crm_id for crm_id in people.iterator(chunk_size=2000) if crm_id not in seen]
    return sorted(set(found))


def apply_unseen(*, ids: list[str], module: str, view_name: str, now: datetime) -> Counts:
    """Linked records a complete full listing did not return.

    Without a view they are gone from the CRM (deleted and no longer in the deleted-records
    feed): the deletion rule applies. With a custom view they may only have left the view and
    still exist in the CRM, so nothing is deleted: every one is unlinked, with that reason.
    """
    when = now.date().isoformat()
    if view_name:
        why = _("Not in the Zoho CRM view “%(view)s” on %(on)s (left the view, or deleted); unlinked.") % {
            "view": view_name,
            "on": when,
        }
        return _drop_links(
            ids=ids, module=module, now=now, reasons={"ledger": why, "tree": why, "login": why}, keep_all=True
        )
    return _drop_links(
        ids=ids,
        module=module,
        now=now,
        reasons={
            "ledger": _("Not found in Zoho CRM on %(on)s; kept in billing because it has transactions.") % {"on": when},
            "tree": _("Not found in Zoho CRM on %(on)s; kept in billing because it has branches.") % {"on": when},
            "login": _("Not found in Zoho CRM on %(on)s; contact person kept because it has a portal login.")
            % {"on": when},
        },
    )


def _drop_links(
    *, ids: list[str], module: str, now: datetime, reasons: dict[str, str], keep_all: bool = False
) -> Counts:
    """Remove the link of these CRM ids: customers with transactions ("ledger") or branches
    ("tree") and contact persons with a portal login ("login") are unlinked with the reason
    recorded (on the customer and in the history); the others are deleted, or unlinked too
    when `keep_all`."""
    counts = Counts()
    key = _key(module)
    rows = {
        pk: (crm_id, name)
        for pk, crm_id, name in Customer.objects.filter(**{f"{key}__in": ids}).values_list("pk", key, "display_name")
    }
    keep_ledger = customers_with_transactions(customer_ids=rows)
    keep_tree = customers_with_branches(customer_ids=set(rows) - keep_ledger)
    keep_rest = set(rows) - keep_ledger - keep_tree if keep_all else set()
    for kind, kept in (("ledger", keep_ledger), ("tree", keep_tree), ("ledger", keep_rest)):
        if not kept:
            continue
        Customer.objects.filter(pk__in=kept).update(
            **{key: None}, crm_unlinked_reason=reasons[kind][:255], updated_at=now
        )
        counts.unlinked += len(kept)
        counts.failures += [
            SyncFailure(
                direction=SyncFailure.Direction.DELETE,
                module=module,
                crm_id=rows[pk][0],
                customer_id=pk,
                record_name=rows[pk][1][:255],
                reason=reasons[kind],
            )
            for pk in sorted(kept)
        ]
    doomed = set(rows) - keep_ledger - keep_tree - keep_rest
    if doomed:
        Customer.objects.filter(pk__in=doomed).delete()
        counts.deleted += len(doomed)
    if module == CONTACTS:
        people = ContactPerson.objects.filter(crm_contact_id__in=ids)
        kept_people = people.filter(user__isnull=False) if not keep_all else people
        for crm_id, customer_id, first, last in kept_people.values_list(
            "crm_contact_id", "customer_id", "first_name", "last_name"
        ).order_by("pk"):
            counts.failures.append(
                SyncFailure(
                    direction=SyncFailure.Direction.DELETE,
                    module=module,
                    crm_id=crm_id,
                    customer_id=customer_id,
                    record_name=f"{first} {last}".strip()[:255],
                    reason=reasons["login"],
                )
            )
        counts.unlinked += kept_people.update(crm_contact_id=None)
        if not keep_all:
            _total, removed = people.filter(user__isnull=True).delete()
            counts.deleted += removed.get(ContactPerson._meta.label, 0)
    return counts
