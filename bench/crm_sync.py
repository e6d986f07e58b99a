"""CRM sync benchmark: the real connector and engine against the fake Zoho CRM, into PostgreSQL.

    .venv/bin/python bench/crm_sync.py                 # 30,000 records (timings + floor) and 100,000 (RSS)
    .venv/bin/python bench/crm_sync.py --only 30000    # one size

Data: 10,000 accounts + 20,000 contacts (2,000 of them orphans) with duplicate names (every
50th account), very long unicode names (every 97th) and unicode contact names; module "Accounts
and their Contacts" with orphans as Individuals, fetch only, skip duplicates, default mapping.

Each size runs in a fresh process (so peak RSS is its own) against its own fake server process
and a fresh database `crm_bench`. The 30,000 run measures, in order: a first full sync, its
floor (downloading the same pages with the same client; one bare INSERT … ON CONFLICT of the
same 30,000 rows through psycopg), a second full run with nothing changed, and an unchanged
incremental run; writes are counted from the SQL actually sent. Then 10,000 sent invoices of
linked accounts are pushed to the CRM's Invoices (with their products) by the scheduled catch-up,
and its HTTP requests are counted against ceil(n/100) + 5.
"""

import argparse
import contextlib
import json
import math
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DB = os.environ.get("CRM_BENCH_DB", "crm_bench")
PUSHED_INVOICES = int(os.environ.get("CRM_BENCH_PUSHED_INVOICES", "10000"))
SIZES = {
    30_000: dict(accounts=10_000, contacts=20_000, orphans=2_000),
    100_000: dict(accounts=33_334, contacts=66_666, orphans=6_666),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size: int, url: str) -> dict:
    """One size, in this process. Django is set up here, after the database was created."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["TEST_DATABASE_URL"] = f"{PG}/{DB}"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing.models import ContactPerson, Customer
    from crmsync.clients import client_for
    from crmsync.mapping import ACCOUNTS, CONTACTS, DEFAULT_MAPPING, crm_fields_to_read
    from crmsync.models import CrmConnection, SyncRun
    from crmsync.services import connect_crm, sync_crm
    from tests.fakes.zoho_server import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN

    settings.CRM_MODIFIED_SINCE_MARGIN_SECONDS = 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    connect_crm(
        email="bench@example.com",
        accounts_domain=url,
        api_domain=url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=DEMO_REFRESH_TOKEN,
    )
    CrmConnection.objects.filter(pk=1).update(
        module=CrmConnection.Module.ACCOUNTS_AND_CONTACTS,
        include_orphan_contacts=True,
        direction=CrmConnection.Direction.FETCH,
        duplicate_policy=CrmConnection.DuplicatePolicy.SKIP,
        is_configured=True,
        field_mapping={m: [list(p) for p in pairs] for m, pairs in DEFAULT_MAPPING.items()},
    )

    def writes(queries) -> int:
        return sum(
            1
            for q in queries
            if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
            # The run's own bookkeeping (history, connection) is not a write; the links are.
            and not any(
                table in q["sql"].split("(")[0].split(" SET")[0]
                for table in ("crmsync_syncrun", "crmsync_syncfailure", "crmsync_crmconnection")
            )
        )

    def timed_sync(trigger, *, capture=True):
        # The first sync keeps no SQL text: the peak RSS after it must be the sync's own.
        with CaptureQueriesContext(connection) if capture else contextlib.nullcontext() as queries:
            t0 = time.perf_counter()
            run = sync_crm(trigger=trigger)
            seconds = time.perf_counter() - t0
        assert run.status == SyncRun.Status.SUCCEEDED, run.message
        captured = queries.captured_queries if capture else []
        return run, seconds, writes(captured), len(captured)

    first, first_s, first_writes, first_queries = timed_sync(SyncRun.Trigger.INITIAL, capture=False)
    out = {
        "size": size,
        "first_s": first_s,
        "rss_after_first_mib": _rss_mib(),
        "first": {
            k: getattr(first, k)
            for k in (
                "records_seen",
                "pages_done",
                "added",
                "updated",
                "skipped",
                "duplicates_skipped",
                "failed",
                "http_requests",
            )
        },
        "first_sql_queries": first_queries,
        "first_write_statements": first_writes,
        "customers": Customer.objects.count(),
        "contact_persons": ContactPerson.objects.count(),
    }
    out["request_bound"] = math.ceil(first.records_seen / 200) + 5
    if size > 30_000:
        return out

    # Floor 1: the same pages with the same client and fields, nothing else.
    conn = CrmConnection.current()
    mapping = conn.field_mapping
    t0 = time.perf_counter()
    rows = []
    with client_for(conn) as client:
        for module in (ACCOUNTS, CONTACTS):
            for page in client.iter_pages(module, fields=crm_fields_to_read(mapping, module)):
                rows.extend(
                    (
                        str(r["id"]),
                        str(r.get("Account_Name") or r.get("Full_Name") or "")[:255],
                        r.get("Email") or "",
                        r.get("Phone") or "",
                    )
                    for r in page.records
                )
    out["floor_download_s"] = time.perf_counter() - t0

    # Floor 2: one bare INSERT … ON CONFLICT of the same rows through psycopg.
    import psycopg

    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as pg:
        pg.execute("DROP TABLE IF EXISTS bench_floor")
        pg.execute(
            "CREATE TABLE bench_floor (crm_id varchar(40) PRIMARY KEY, name varchar(255), "
            "email varchar(254), phone varchar(40))"
        )
        ids, names, emails, phones = (list(col) for col in zip(*rows, strict=True))
        t0 = time.perf_counter()
        pg.execute(
            "INSERT INTO bench_floor (crm_id, name, email, phone) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) "
            "ON CONFLICT (crm_id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, "
            "phone = EXCLUDED.phone",
            (ids, names, emails, phones),
        )
        out["floor_upsert_s"] = time.perf_counter() - t0
        pg.execute("DROP TABLE bench_floor")
    out["floor_s"] = out["floor_download_s"] + out["floor_upsert_s"]

    # The next run comes two hours later in production, long after autovacuum has analysed the
    # tables the first sync filled; without fresh statistics PostgreSQL seq-scans them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_customer, billing_contactperson, crmsync_crmlink")
    CrmConnection.objects.filter(pk=1).update(accounts_synced_until=None, contacts_synced_until=None)
    second, second_s, second_writes, _q = timed_sync(SyncRun.Trigger.INSTANT)
    out.update(
        second_full_s=second_s,
        second_full_write_statements=second_writes,
        second_full_counts=[second.added, second.updated, second.deleted, second.records_seen],
    )
    time.sleep(1.1)  # If-Modified-Since has a one-second resolution
    third, third_s, third_writes, _q = timed_sync(SyncRun.Trigger.SCHEDULED)
    out.update(
        incremental_s=third_s,
        incremental_write_statements=third_writes,
        incremental_counts=[third.added, third.updated, third.deleted, third.records_seen],
        incremental_requests=third.http_requests,
    )
    out.update(measure_invoice_push(PUSHED_INVOICES))
    return out


def measure_invoice_push(count: int) -> dict:
    """Push `count` sent invoices of linked accounts (each with one item line; three items, so
    three CRM products) through the scheduled catch-up, as the first push after set-up: HTTP
    requests against the bound ceil(n/100) + 5, and the time it took."""
    import datetime as dt
    from decimal import Decimal

    from billing.models import Customer, Invoice, InvoiceLine, Item
    from crmsync.clients import client_for
    from crmsync.models import CrmConnection, SyncRun
    from crmsync.services import prepare_crm_fields
    from crmsync.services.documents import push_documents

    items = Item.objects.bulk_create([Item(name=f"Bench item {n}", rate=Decimal("100.00")) for n in range(3)])
    customers = list(
        Customer.objects.filter(customer_type=Customer.Type.BUSINESS).order_by("pk").values_list("pk", flat=True)
    )
    today = dt.date.today()
    invoices = Invoice.objects.bulk_create(
        [
            Invoice(
                customer_id=customers[n % len(customers)],
                number=f"BENCH-{n:06d}",
                status=Invoice.Status.SENT,
                currency="USD",
                issued_on=today,
                due_on=today + dt.timedelta(days=30),
                subtotal=Decimal("100.00"),
                total=Decimal("100.00"),
                balance_due=Decimal("100.00"),
            )
            for n in range(count)
        ]
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                item=items[n % len(items)],
                description=items[n % len(items)].name,
                quantity=Decimal("1"),
                rate=Decimal("100.00"),
                amount=Decimal("100.00"),
            )
            for n, invoice in enumerate(invoices)
        ]
    )
    # As staff switching transactions on in the set-up page: the CRM fields are created at save.
    CrmConnection.objects.filter(pk=1).update(push_transactions=True)
    connection = CrmConnection.current()
    assert prepare_crm_fields(connection=connection) == []
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.SCHEDULED)
    with client_for(connection) as client:
        t0 = time.perf_counter()
        pushed = push_documents(run=run, client=client)
        seconds = time.perf_counter() - t0
        requests = client.request_count
    return {
        "push_invoices": count,
        "push_pushed": pushed,
        "push_requests": requests,
        "push_request_bound": math.ceil(count / 100) + 5,
        "push_s": seconds,
    }


def run_size(size: int) -> dict:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as pg:
        pg.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        pg.execute(f"CREATE DATABASE {DB}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": f"{PG}/{DB}",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    shape = SIZES[size]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.zoho_server",
            "--port",
            str(port),
            "--accounts",
            str(shape["accounts"]),
            "--contacts",
            str(shape["contacts"]),
            "--orphans",
            str(shape["orphans"]),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Fake Zoho CRM on" in server.stdout.readline()
        result = subprocess.run(
            [sys.executable, __file__, "--measure", str(size), "--url", f"http://127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", type=int, choices=sorted(SIZES))
    parser.add_argument("--measure", type=int)
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.url)))
        return
    for size in [args.only] if args.only else sorted(SIZES):
        result = run_size(size)
        print(json.dumps(result, indent=2))
        if "floor_s" in result:
            print(
                f"first full sync {result['first_s']:.2f}s = {result['first_s'] / result['floor_s']:.1f}x floor "
                f"({result['floor_download_s']:.2f}s download + {result['floor_upsert_s']:.2f}s upsert); "
                f"second full {result['second_full_s']:.2f}s = {result['second_full_s'] / result['floor_s']:.1f}x, "
                f"{result['second_full_write_statements']} writes; incremental {result['incremental_s']:.2f}s, "
                f"{result['incremental_write_statements']} writes"
            )
            print(
                f"push of {result['push_invoices']} invoices: {result['push_pushed']} pushed with "
                f"{result['push_requests']} HTTP requests (bound {result['push_request_bound']}) "
                f"in {result['push_s']:.2f}s"
            )
        print(
            f"{size} records: peak RSS {result['rss_after_first_mib']:.0f} MiB after the first sync, "
            f"{result['first']['http_requests']} HTTP requests (bound {result['request_bound']})"
        )


if __name__ == "__main__":
    main()
