"""Applying one page of CRM records to billing, in batches: a fixed number of queries per page.

This module decides what a page changes; billing's page services
(`billing.services.customer_pages`) create, change and delete the customers and contact persons,
checking each row, and the links between them and the CRM records are this app's own rows
(`CrmLink`). Each function runs inside the caller's per-page transaction and returns the page's
counts and failures; nothing here talks to the CRM.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db.models import F, Q
from django.utils.translation import gettext as _

from billing.models import Customer
from billing.selectors import customers_with_branches, customers_with_transactions
from billing.services import (
    PageRow,
    delete_contact_persons,
    delete_customers,
    save_contact_person_page,
    save_customer_page,
)
from crmsync.mapping import (
    ACCOUNTS,
    CONTACTS,
    CUSTOM_PREFIX,
    EDIT_TOLERANCE,
    NAME_FIELD,
    Mapped,
    account_id_of,
    map_contact_person,
    map_customer,
)
from crmsync.models import CrmConnection, CrmLink, SyncFailure
from crmsync.selectors import linked_customer_ids
from crmsync.services.links import add_links, lock_links, mark_synced, unlink


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
    synced = row["synced_at"]
    if synced is None or row["updated_at"] <= synced + EDIT_TOLERANCE:
        return False
    return item.modified_at is not None and item.modified_at <= synced


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

    At most three reads (linked customers by CRM id; for duplicates, customers of the same display
    name and which of them are linked), then billing's page service and at most two writes of links.
    Unchanged customers are not written.
    """
    counts = Counts()
    customer_type = Customer.Type.BUSINESS if module == ACCOUNTS else Customer.Type.INDIVIDUAL
    targets = sorted({t for _c, t in pairs if not t.startswith(CUSTOM_PREFIX)})
    mapped: dict[str, Mapped] = {}
    for record in records:
        item = map_customer(record, pairs, module=module)
        if item.error:
            counts.fail(
                module=module,
                crm_id=item.crm_id,
                name=item.name or str(record.get(NAME_FIELD[module]) or record.get("id")),
                reason=item.error,
            )
        else:
            mapped[item.crm_id] = item
    lock_links()
    existing = {
        row["crm_id"]: row
        for row in CrmLink.objects.active()
        .of_customers(module)
        .filter(crm_id__in=list(mapped))
        .values(
            "crm_id",
            "synced_at",
            customer_pk=F("customer_id"),
            updated_at=F("customer__updated_at"),
            custom_fields=F("customer__custom_fields"),
            **{t: F(f"customer__{t}") for t in targets},
        )
    }
    new = [m for m in mapped.values() if m.crm_id not in existing]
    twins: dict[str, list[dict]] = {}
    if new:
        # Customers of the same name not linked in this module. Two plain lookups: a name is rarely
        # taken, and an anti-join with the links made PostgreSQL read every link (measured).
        named = list(
            Customer.objects.filter(display_name__in={m.name for m in new})
            .order_by("pk")
            .values("pk", "display_name", "custom_fields", *targets)
        )
        linked = set(
            CrmLink.objects.active()
            .of_customers(module)
            .filter(customer_id__in=[row["pk"] for row in named])
            .values_list("customer_id", flat=True)
            if named
            else ()
        )
        for row in named:
            if row["pk"] not in linked:
                twins.setdefault(row["display_name"], []).append(row)

    def changes(row: dict, item: Mapped) -> dict[str, Any] | None:
        custom = {**row["custom_fields"], **item.custom}
        if custom == row["custom_fields"] and all(row[t] == item.values[t] for t in targets):
            return None
        return {**{t: item.values[t] for t in targets}, "custom_fields": custom}

    # What each row sent to billing is, for the counts and the links once billing answered.
    rows: list[PageRow] = []
    outcomes: list[tuple[str, Mapped]] = []  # ("updated" | "overwritten" | "added" | "cloned", record)
    relinked: list[tuple[int, str]] = []  # duplicates overwritten without a change of values
    synced: list[int] = []
    for item in mapped.values():
        row = existing.get(item.crm_id)
        if row is not None:
            if _billing_edit_is_newer(row, item):
                continue  # pushed in both-ways mode; an unchanged CRM record must not undo it
            values = changes(row, item)
            if values is not None:
                rows.append(PageRow(pk=row["customer_pk"], values=values))
                outcomes.append(("updated", item))
            continue
        same_name = twins.get(item.name)
        if same_name and duplicate_policy == CrmConnection.DuplicatePolicy.SKIP:
            counts.skipped += 1
            counts.duplicates_skipped += 1
            continue
        if same_name and duplicate_policy == CrmConnection.DuplicatePolicy.OVERWRITE:
            twin = same_name.pop(0)
            values = changes(twin, item)
            if values is None:
                relinked.append((twin["pk"], item.crm_id))
                counts.updated += 1
                counts.duplicates_overwritten += 1
            else:
                rows.append(PageRow(pk=twin["pk"], values=values))
                outcomes.append(("overwritten", item))
            continue
        values = {t: item.values[t] for t in targets}
        if module == ACCOUNTS:
            values.setdefault("company_name", item.values["company_name"])
        rows.append(
            PageRow(
                values={
                    **values,
                    "customer_type": customer_type,
                    "currency": currency,
                    "origin": Customer.Origin.CRM,
                    "custom_fields": item.custom,
                }
            )
        )
        outcomes.append(("cloned" if same_name else "added", item))

    result = save_customer_page(rows=rows) if rows else None
    new_links = list(relinked)
    for index, (outcome, item) in enumerate(outcomes):
        pk = result.pks[index]
        if pk is None:
            counts.fail(module=module, crm_id=item.crm_id, name=item.name, reason=result.problems[index])
            continue
        if outcome == "updated":
            synced.append(pk)
            counts.updated += 1
            continue
        new_links.append((pk, item.crm_id))
        if outcome == "overwritten":
            counts.updated += 1
            counts.duplicates_overwritten += 1
        else:
            counts.added += 1
            counts.duplicates_cloned += outcome == "cloned"
    add_links(field="customer", module=module, pairs=new_links, now=now)
    mark_synced(field="customer", module=module, ids=synced, now=now)
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
    lock_links()
    customer_by_account = linked_customer_ids(module=ACCOUNTS, crm_ids=account_ids)
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
        item = map_contact_person(record)
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
        row["crm_id"]: row
        for row in CrmLink.objects.active()
        .of_contact_persons()
        .filter(crm_id__in=list(people))
        .values(
            "crm_id",
            person_pk=F("contact_person_id"),
            owner_id=F("contact_person__customer_id"),
            **{f: F(f"contact_person__{f}") for f in _PERSON_FIELDS},
        )
    }
    rows: list[PageRow] = []
    sent: list[tuple[str, str]] = []  # (crm id, "added" | "updated") of each row
    for crm_id, (customer_id, item) in people.items():
        row = existing.get(crm_id)
        changed = (
            row is None or row["owner_id"] != customer_id or any(row[f] != item.values[f] for f in _PERSON_FIELDS)
        )
        if not changed:
            continue
        values = {"customer_id": customer_id, **item.values}
        rows.append(PageRow(pk=None if row is None else row["person_pk"], values=values))
        sent.append((crm_id, "added" if row is None else "updated"))
    if rows:
        result = save_contact_person_page(rows=rows)
        new_links, synced = [], []
        for index, (crm_id, outcome) in enumerate(sent):
            pk = result.pks[index]
            if pk is None:
                name = people[crm_id][1].values["first_name"]
                counts.fail(module=CONTACTS, crm_id=crm_id, name=name, reason=result.problems[index])
            elif outcome == "added":
                new_links.append((pk, crm_id))
                counts.added += 1
            else:
                synced.append(pk)
                counts.updated += 1
        add_links(field="contact_person", module=CONTACTS, pairs=new_links, now=now)
        mark_synced(field="contact_person", module=CONTACTS, ids=synced, now=now)
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
    not return. Records linked or synced after it (a staff import during the run) are left alone."""
    objects = Q(customer__isnull=False)
    if contact_persons:
        objects |= Q(contact_person__isnull=False)
    linked = (
        CrmLink.objects.active()
        .filter(objects, module=module)
        .filter(Q(synced_at__isnull=True) | Q(synced_at__lt=linked_before))
        .values_list("crm_id", flat=True)
    )
    return sorted({crm_id for crm_id in linked.iterator(chunk_size=2000) if crm_id not in seen})


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
    """End the links of these CRM ids. Billing deletes their customers and contact persons
    (`delete_customers`, `delete_contact_persons`) except customers with transactions ("ledger") or
    branches ("tree") and contact persons with a portal login ("login"): those keep living in
    billing, unlinked, with the reason on the link and in the history. With `keep_all` nothing is
    deleted: every one is unlinked."""
    counts = Counts()
    links = CrmLink.objects.active().filter(module=module, crm_id__in=ids)
    rows = {
        pk: (crm_id, name)
        for pk, crm_id, name in links.filter(customer__isnull=False).values_list(
            "customer_id", "crm_id", "customer__display_name"
        )
    }
    if keep_all:
        keep_ledger = customers_with_transactions(customer_ids=rows)
        keep_tree = customers_with_branches(customer_ids=set(rows) - keep_ledger)
        keep_rest = set(rows) - keep_ledger - keep_tree
    else:
        removal = delete_customers(customer_ids=rows)
        keep_ledger, keep_tree, keep_rest = removal.kept_with_transactions, removal.kept_with_branches, set()
        counts.deleted += len(removal.deleted)
    for kind, kept in (("ledger", keep_ledger), ("tree", keep_tree), ("ledger", keep_rest)):
        if not kept:
            continue
        counts.unlinked += unlink(field="customer", module=module, ids=kept, reason=reasons[kind], now=now)
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
    if module == CONTACTS:
        people = {
            pk: (crm_id, customer_id, f"{first} {last}".strip())
            for pk, crm_id, customer_id, first, last in links.filter(contact_person__isnull=False).values_list(
                "contact_person_id",
                "crm_id",
                "contact_person__customer_id",
                "contact_person__first_name",
                "contact_person__last_name",
            )
        }
        if keep_all:
            kept_people = set(people)
        else:
            removal = delete_contact_persons(contact_ids=people)
            kept_people = removal.kept_with_login
            counts.deleted += len(removal.deleted)
        for pk in sorted(kept_people):
            crm_id, customer_id, name = people[pk]
            counts.failures.append(
                SyncFailure(
                    direction=SyncFailure.Direction.DELETE,
                    module=module,
                    crm_id=crm_id,
                    customer_id=customer_id,
                    record_name=name[:255],
                    reason=reasons["login"],
                )
            )
        counts.unlinked += unlink(
            field="contact_person", module=module, ids=kept_people, reason=reasons["login"], now=now
        )
    return counts
