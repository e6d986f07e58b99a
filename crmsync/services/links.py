"""Writes of the CRM links (`CrmLink`): the integration's own bookkeeping of which billing object is
which CRM record. Billing's rows are changed only through billing's services; these are the rows
the integration owns."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from billing.bulk import insert_rows
from crmsync.models import CrmLink

# Any number for pg_advisory_xact_lock, the same wherever customer or contact-person links are made.
_LINKS_LOCK = 0x63726D6C  # "crml"


def lock_links() -> None:
    """Queue the writers of customer and contact-person links one behind the other until the
    caller's transaction ends (PostgreSQL; SQLite serialises writers anyway).

    The sync's pages never overlap (the run lock), but staff may import one CRM record while a page
    is applied: each would find no link and create the customer. Taken before a page looks its
    records up, the lock makes the second writer see the first one's link. One cheap query per page.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LINKS_LOCK])


def add_links(*, field: str, module: str, pairs: Iterable[tuple[int, str]], now: datetime) -> None:
    """New links of `field` ("customer", "contact_person", …) objects: (object id, CRM id) pairs. One INSERT."""
    insert_rows(
        CrmLink,
        [{f"{field}_id": pk, "module": module, "crm_id": crm_id, "synced_at": now} for pk, crm_id in pairs],
    )


def mark_synced(*, field: str, module: str, ids: Iterable[int], now: datetime) -> None:
    """The active links of these objects were synced `now`. One UPDATE."""
    ids = list(ids)
    if ids:
        CrmLink.objects.active().filter(module=module, **{f"{field}_id__in": ids}).update(synced_at=now)


def unlink(*, field: str, module: str, ids: Iterable[int], reason: str, now: datetime) -> int:
    """End the active links of these objects, keeping when and why. Returns how many ended."""
    ids = list(ids)
    if not ids:
        return 0
    return (
        CrmLink.objects.active()
        .filter(module=module, **{f"{field}_id__in": ids})
        .update(unlinked_at=now, unlinked_reason=reason[:255])
    )
