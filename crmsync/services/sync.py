"""The sync run: one at a time (a cache lock), page by page, each page in its own transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import ContactPerson, Customer, Organisation
from crmsync.clients import client_for
from crmsync.mapping import (
    ACCOUNTS,
    CONTACTS,
    DUPLICATE_CHECK_FIELD,
    EDIT_TOLERANCE,
    NAME_FIELD,
    crm_fields_to_read,
    customer_to_crm,
    mapping_for,
)
from crmsync.models import CrmConnection, CrmLink, SyncFailure, SyncRun
from crmsync.services.fetch import (
    Counts,
    SeenIds,
    apply_contact_person_page,
    apply_customer_page,
    apply_deletions,
    apply_unseen,
    unseen_links,
)
from crmsync.services.links import add_links, lock_links, mark_synced
from crmsync.zoho import UPSERT_BATCH, CrmError, ZohoClient

logger = logging.getLogger(__name__)

LOCK_KEY = "crmsync:sync-lock"
# Longer than any run; if a worker dies holding the lock, the next trigger after this runs.
LOCK_TIMEOUT_SECONDS = 3 * 60 * 60
ANALYZE_FIRST_AT = 5_000
UNSEEN_BATCH = 200


def sync_crm(*, trigger: str) -> SyncRun | None:
    """Run one sync with Zoho CRM and record it in the history. Safe to trigger concurrently.

    Only one run at a time: a trigger that finds another run holding the lock is recorded as
    skipped. Nothing runs (None) when the integration is disabled, not set up or paused; an
    instant sync is refused before it is queued (`request_instant_sync`). Each page is applied
    in its own transaction, so a failed run never leaves half a page; the incremental
    watermark moves only when the whole run succeeded. CRM failures end the run as failed with
    the reason; unexpected errors are recorded and re-raised.
    """
    connection = CrmConnection.current()
    if not (connection.has_credentials and connection.is_enabled and connection.is_configured) or connection.is_paused:
        logger.info("The CRM sync (%s) did not run: the integration is %s.", trigger, connection.status_label.lower())
        return None
    run = SyncRun.objects.create(trigger=trigger)
    if not cache.add(LOCK_KEY, run.pk, LOCK_TIMEOUT_SECONDS):
        holder = cache.get(LOCK_KEY)
        run.status = SyncRun.Status.SKIPPED
        run.finished_at = timezone.now()
        run.message = _("Another sync (run #%(run)s) was in progress; this trigger was skipped.") % {"run": holder}
        run.save(update_fields=["status", "finished_at", "message"])
        return run
    # Holding the lock, no other run can be going on: a "running" row left by a worker that died
    # mid-run would otherwise show as in progress for ever.
    SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exclude(pk=run.pk).update(
        status=SyncRun.Status.FAILED,
        finished_at=timezone.now(),
        message=_("Interrupted: the process running this sync stopped before it finished."),
    )
    client = client_for(connection)
    try:
        _sync(run=run, connection=connection, client=client)
    except CrmError as exc:
        _finish(run, client, SyncRun.Status.FAILED, exc.reason)
    except Exception:
        _finish(
            run,
            client,
            SyncRun.Status.FAILED,
            _("The sync stopped on an unexpected error; see the server log."),
        )
        raise
    else:
        _finish(run, client, SyncRun.Status.SUCCEEDED, "")
    finally:
        client.close()
        # Not atomic with the get, but only this run ever wrote its own id under the key.
        if cache.get(LOCK_KEY) == run.pk:
            cache.delete(LOCK_KEY)
    return run


def _refresh_statistics() -> None:
    """ANALYZE the tables a first sync is filling (PostgreSQL only), those that hold rows yet.

    A first sync fills empty tables faster than autovacuum looks at them (once a minute); with
    no statistics PostgreSQL seq-scans the per-page lookups by CRM id and the run turns
    quadratic (100,000 records took 5x the time of 30,000 in bench/crm_sync.py).

    An empty table is left alone: analysed empty, it looks empty to the planner until the next
    ANALYZE, and the foreign-key check of every link to a contact person (a plan PostgreSQL
    keeps for the session) became a sequential scan of the growing contact persons (3 s of a
    6 s first sync, 2026-12-03). Never analysed, the planner assumes ten pages and uses the index.
    """
    if db_connection.vendor != "postgresql":
        return
    quote = db_connection.ops.quote_name
    names = [quote(m._meta.db_table) for m in (Customer, ContactPerson, CrmLink)]
    try:
        with db_connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(f"(SELECT '{name}' FROM {name} LIMIT 1)" for name in names))
            filled = [row[0] for row in cursor.fetchall()]
            if filled:
                cursor.execute(f"ANALYZE {', '.join(filled)}")
    except DatabaseError:
        # Only the table owner may ANALYZE; autovacuum will catch up, the sync is just slower.
        logger.warning("The CRM sync could not ANALYZE %s; lookups may be slow until autovacuum runs.", names)


def _commit_without_waiting_for_disk() -> None:
    """Let this page's COMMIT return before its WAL reaches the disk (PostgreSQL only).

    A first sync commits a page 150 times per 30,000 records. After a database crash the last
    pages may be gone, never half of one; the run's watermark is written by a normal commit,
    which flushes every earlier page first, so a lost page is simply fetched again next run.
    """
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _finish(run: SyncRun, client: ZohoClient, status: str, message: str) -> None:
    SyncRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        finished_at=timezone.now(),
        http_requests=client.request_count,
        current_step="",
    )
    run.refresh_from_db()


def _progress(run: SyncRun, step: str) -> None:
    SyncRun.objects.filter(pk=run.pk).update(current_step=step[:100])


def _record(run: SyncRun, counts: Counts, *, records_seen: int = 0, pages: int = 0) -> None:
    """Add a page's counts and failures to the run, in the page's transaction."""
    changes = {name: F(name) + value for name, value in counts.as_dict().items() if value}
    if records_seen:
        changes["records_seen"] = F("records_seen") + records_seen
    if pages:
        changes["pages_done"] = F("pages_done") + pages
    if changes:
        SyncRun.objects.filter(pk=run.pk).update(**changes)
    if counts.failures:
        for failure in counts.failures:
            failure.run_id = run.pk
        SyncFailure.objects.bulk_create(counts.failures)


def _since(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    # Clocks differ between us and Zoho; the overlap only refetches records, which are
    # compared and not written when unchanged.
    return moment - timedelta(seconds=getattr(settings, "CRM_MODIFIED_SINCE_MARGIN_SECONDS", 60))


def _sync(*, run: SyncRun, connection: CrmConnection, client: ZohoClient) -> None:
    started = run.started_at
    currency = Organisation.current().base_currency
    mapping = connection.field_mapping or {}
    policy = connection.duplicate_policy
    incremental = (
        connection.accounts_synced_until if connection.syncs_accounts else connection.contacts_synced_until
    ) is not None
    SyncRun.objects.filter(pk=run.pk).update(is_incremental=incremental)
    linked_at_start = [module for module in (ACCOUNTS, CONTACTS) if _has_links(module)]

    added_in_run, analyze_at = 0, ANALYZE_FIRST_AT

    # CRM ids returned by each complete full listing: linked records missing from them are swept.
    listed: dict[str, SeenIds] = {}

    def fetch(module: str, view_id: str, since: datetime | None, apply) -> None:
        nonlocal added_in_run, analyze_at
        _progress(run, _("Fetching %(module)s") % {"module": module})
        fields = crm_fields_to_read(mapping, module)
        seen = SeenIds() if since is None else None
        for page in client.iter_pages(module, fields=fields, cvid=view_id, modified_since=_since(since)):
            if seen is not None:
                seen.add(page.records)
            with transaction.atomic():
                _commit_without_waiting_for_disk()
                counts = apply(page.records)
                _record(run, counts, records_seen=len(page.records), pages=1)
            added_in_run += counts.added
            if added_in_run >= analyze_at:
                # At 5,000 rows, then each time the run has doubled them: a handful of ANALYZEs
                # (each ~0.2 s at 100,000 rows) however large the sync.
                _refresh_statistics()
                analyze_at = added_in_run * 2
        if seen is not None:
            listed[module] = seen  # reached only when the listing ended without an error

    if connection.syncs_accounts:
        fetch(
            ACCOUNTS,
            connection.account_view_id,
            connection.accounts_synced_until,
            lambda records: apply_customer_page(
                records=records,
                module=ACCOUNTS,
                pairs=mapping_for(mapping, ACCOUNTS),
                duplicate_policy=policy,
                currency=currency,
                now=timezone.now(),
            ),
        )
    if connection.module == CrmConnection.Module.CONTACTS:
        fetch(
            CONTACTS,
            connection.contact_view_id,
            connection.contacts_synced_until,
            lambda records: apply_customer_page(
                records=records,
                module=CONTACTS,
                pairs=mapping_for(mapping, CONTACTS),
                duplicate_policy=policy,
                currency=currency,
                now=timezone.now(),
            ),
        )
    elif connection.module == CrmConnection.Module.ACCOUNTS_AND_CONTACTS:
        fetch(
            CONTACTS,
            connection.contact_view_id,
            connection.contacts_synced_until,
            lambda records: apply_contact_person_page(
                records=records,
                include_orphans=connection.include_orphan_contacts,
                pairs=mapping_for(mapping, CONTACTS),
                duplicate_policy=policy,
                currency=currency,
                now=timezone.now(),
            ),
        )

    deleted_mid_run = _read_deletions(run=run, connection=connection, client=client, modules=linked_at_start)
    # Only links from before the run can be stale: whatever this run linked, it listed.
    _sweep_unseen(
        run=run,
        connection=connection,
        client=client,
        listed={m: listed[m] for m in linked_at_start if m in listed},
        shifted=deleted_mid_run,
    )

    if connection.syncs_accounts:
        from crmsync.services.deals import sync_won_deals

        _progress(run, _("Reading won deals"))
        sync_won_deals(run=run, connection=connection, client=client, since=_since(connection.deals_synced_until))

    if connection.direction == CrmConnection.Direction.BOTH:
        if connection.syncs_accounts:
            push_customers(run=run, client=client, module=ACCOUNTS, pairs=mapping_for(mapping, ACCOUNTS))
        if connection.syncs_contacts:
            push_customers(run=run, client=client, module=CONTACTS, pairs=mapping_for(mapping, CONTACTS))
        if connection.syncs_accounts:
            from crmsync.services.receivables import push_receivables

            _progress(run, _("Pushing account receivables"))
            push_receivables(run=run, client=client)

    if connection.push_transactions and connection.syncs_accounts:
        from crmsync.services.documents import push_documents

        _progress(run, _("Pushing invoices and sales orders"))
        push_documents(run=run, client=client)

    CrmConnection.objects.filter(pk=connection.pk).update(
        accounts_synced_until=started if connection.syncs_accounts else None,
        contacts_synced_until=started if connection.syncs_contacts else None,
    )


def _has_links(module: str) -> bool:
    return CrmLink.objects.active().filter(module=module).exists()


def _read_deletions(*, run: SyncRun, connection: CrmConnection, client: ZohoClient, modules: list[str]) -> set[str]:
    """Every run, full or incremental: the deleted-records feed since the start of the last run
    that read it whole (its own cursor, which a change of set-up does not clear).

    `modules` are those billing had links to when the run started, synced or not (a module
    dropped from the set-up keeps its links until the CRM deletes them). A module with nothing
    linked then has nothing to unlink from before the run, and what this run links is read
    next time (the cursor becomes this run's start). The cursor moves only when every feed was
    read, so a run failing before or during this step reads the same deletions again next time.
    Returns the modules in which something was deleted while the run was listing them.
    """
    since = _since(connection.deletions_synced_until)
    during_run: set[str] = set()
    for module in modules:
        _progress(run, _("Checking deletions in %(module)s") % {"module": module})
        for deleted in client.iter_deleted(module, since=since):
            if deleted:
                if any(_deleted_during(d, run.started_at) for d in deleted):
                    during_run.add(module)
                with transaction.atomic():
                    _record(run, apply_deletions(deleted=deleted, module=module, now=timezone.now()))
    CrmConnection.objects.filter(pk=connection.pk).update(deletions_synced_until=run.started_at)
    return during_run


def _deleted_during(entry: dict, started: datetime) -> bool:
    """Whether a deleted-feed entry may have been deleted while this run was listing (a minute of
    slack for clocks and Zoho's whole seconds); an entry without a readable time counts."""
    try:
        when = datetime.fromisoformat(str(entry.get("deleted_time")))
    except ValueError:
        return True
    if when.tzinfo is None:
        return True
    return when >= started - timedelta(minutes=1)


def _sweep_unseen(
    *,
    run: SyncRun,
    connection: CrmConnection,
    client: ZohoClient,
    listed: dict[str, SeenIds],
    shifted: set[str],
) -> None:
    """After a complete full listing of a module: linked records it did not return lose their link
    (`apply_unseen`: the deletion rule, or unlink only when the listing was of a custom view).

    Only modules whose listing ended without an error are in `listed`, so a run that fails
    midway unlinks nothing it simply did not reach. A deletion while a module was being listed
    (`shifted`) moves later records up a page, so the listing may have missed some: then each
    unseen record is looked up and only those the CRM no longer has lose their link (the others
    are checked again by the next full run).
    """
    views = {
        ACCOUNTS: (connection.account_view_id, connection.account_view_name),
        CONTACTS: (connection.contact_view_id, connection.contact_view_name),
    }
    for module, seen in listed.items():
        _progress(run, _("Checking for records no longer in %(module)s") % {"module": module})
        view_id, view_name = views[module]
        ids = unseen_links(
            module=module,
            seen=seen,
            linked_before=run.started_at,
            contact_persons=module == CONTACTS and connection.module == CrmConnection.Module.ACCOUNTS_AND_CONTACTS,
        )
        if module in shifted:
            ids = [i for i in ids if client.get_record(module, i, fields=[NAME_FIELD[module]]) is None]
        for at in range(0, len(ids), UNSEEN_BATCH):
            with transaction.atomic():
                counts = apply_unseen(
                    ids=ids[at : at + UNSEEN_BATCH],
                    module=module,
                    view_name=(view_name or view_id) if view_id else "",
                    now=timezone.now(),
                )
                _record(run, counts)


def push_customers(*, run: SyncRun, client: ZohoClient, module: str, pairs: list[tuple[str, str]]) -> None:
    """Both ways: billing Business customers → Accounts, Individuals → Contacts, 100 per upsert.

    Pushed: customers created in billing and never linked, and linked customers edited in billing
    since their last sync. Not pushed: customers unlinked after a CRM deletion, and new billing
    customers whose name a linked CRM record already has (the duplicate policy decided them).
    Each batch's results (success / duplicate / invalid data) go into the history.
    """
    customer_type = Customer.Type.BUSINESS if module == ACCOUNTS else Customer.Type.INDIVIDUAL
    _progress(run, _("Pushing customers to %(module)s") % {"module": module})
    links = CrmLink.objects.filter(module=module, customer_id=OuterRef("pk"))
    active = links.filter(unlinked_at__isnull=True)
    linked_names = CrmLink.objects.active().of_customers(module).values("customer__display_name")
    never_linked = Q(origin=Customer.Origin.BILLING) & ~Exists(links) & ~Q(display_name__in=linked_names)
    edited_since_sync = Q(link_crm_id__isnull=False, updated_at__gt=F("link_synced_at") + EDIT_TOLERANCE)
    candidates = (
        Customer.objects.filter(customer_type=customer_type)
        .annotate(
            link_crm_id=Subquery(active.values("crm_id")[:1]),
            link_synced_at=Subquery(active.values("synced_at")[:1]),
        )
        .filter(never_linked | edited_since_sync)
        .order_by("pk")
    )
    last_pk = 0
    while True:
        batch = list(candidates.filter(pk__gt=last_pk)[:UPSERT_BATCH])
        if not batch:
            return
        last_pk = batch[-1].pk
        results = client.upsert(
            module,
            [customer_to_crm(c, pairs, module=module, crm_id=c.link_crm_id) for c in batch],
            duplicate_check_fields=[DUPLICATE_CHECK_FIELD[module]],
        )
        now = timezone.now()
        with transaction.atomic():
            lock_links()
            _record(run, _link_pushed(batch=batch, results=results, module=module, now=now))


def _link_pushed(*, batch: list[Customer], results: list[dict], module: str, now: datetime) -> Counts:
    """Link (or mark synced) the customers of one upsert batch to the records Zoho CRM answered."""
    counts = Counts()
    linked_elsewhere = set(
        CrmLink.objects.active()
        .of_customers(module)
        .filter(crm_id__in=[str((r.get("details") or {}).get("id")) for r in results])
        .exclude(customer_id__in=[c.pk for c in batch])
        .values_list("crm_id", flat=True)
    )
    new_links, synced = [], []
    for customer, result in zip(batch, results, strict=True):
        crm_id = str((result.get("details") or {}).get("id") or "")
        if result.get("status") != "success" or not crm_id:
            details = result.get("details") or {}
            reason = f"{result.get('code', 'ERROR')}: {result.get('message', '')}"
            if details.get("api_name"):
                reason += f" ({details['api_name']})"
            counts.fail(
                module=module,
                name=customer.display_name,
                reason=reason,
                customer_id=customer.pk,
                direction=SyncFailure.Direction.PUSH,
            )
            continue
        if crm_id in linked_elsewhere:
            counts.fail(
                module=module,
                crm_id=crm_id,
                name=customer.display_name,
                customer_id=customer.pk,
                direction=SyncFailure.Direction.PUSH,
                reason=_("Zoho CRM matched it to a record already linked to another customer."),
            )
            continue
        if result.get("action") == "insert":
            counts.pushed_added += 1
        else:
            counts.pushed_updated += 1
        if customer.link_crm_id is None:
            new_links.append((customer.pk, crm_id))
        elif customer.link_crm_id == crm_id:
            synced.append(customer.pk)
        else:  # Zoho answered with another record than the one linked: follow it
            CrmLink.objects.active().of_customers(module).filter(customer=customer).update(crm_id=crm_id, synced_at=now)
    add_links(field="customer", module=module, pairs=new_links, now=now)
    mark_synced(field="customer", module=module, ids=synced, now=now)
    return counts
