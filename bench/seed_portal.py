"""Seed the portal benchmark database (bench only; never run against a real database).

    .venv/bin/python bench/seed_portal.py [--branches 1000] [--invoices 200] [--db bench_portal]

Drops and re-creates the PostgreSQL database `--db` on 127.0.0.1, migrates it, and creates:
- "Bench Holdings" (portal on) with a contact bench@portal.example (password: tests.factories.PORTAL_PASSWORD)
  and `--branches` branches open to it, each with `--invoices` invoices (one a week back from 2026-11-20:
  paid, partially paid, sent and overdue) and a payment every fourth week applied to one of its invoices;
- "Small Co" with one branch, one invoice and a payment applied to it (small@portal.example): the
  query-count baseline, with the same kinds of rows as the big tree so the same code paths run.
Invoices, payments and allocations go in with COPY (psycopg 3): 200,000 invoices take seconds.
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LAST_ISSUE = dt.date(2026, 11, 20)


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _copy(cursor, model, rows, overrides: list[str]):
    """COPY `rows` (tuples for the `overrides` columns) into `model`'s table; every other column takes the
    value an unsaved instance has (the model's defaults), so the rows are what the ORM would write."""
    from django.db import connection

    template = model()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    constant = {}
    for f in fields:
        if f.column in overrides:
            continue
        value = getattr(template, f.attname)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
        constant[f.column] = f.get_db_prep_save(value, connection)
    order = [columns.index(c) for c in overrides]
    with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
        base = [constant.get(c) for c in columns]
        for row in rows:
            values = list(base)
            for i, value in zip(order, row, strict=True):
                values[i] = value
            copy.write_row(values)


def seed(*, branches: int, invoices: int) -> dict:
    import django

    django.setup()
    from django.db import connection, transaction

    from billing.models import Allocation, Customer, Invoice, Organisation, Payment
    from billing.services import link_to_parent
    from tests.factories import ContactPersonFactory, CustomerFactory, InvoiceFactory, PaymentFactory

    Organisation.objects.update_or_create(pk=1, defaults={"name": "Acme Networks", "email": "billing@acme.example"})
    small = ContactPersonFactory(customer__display_name="Small Co", email="small@portal.example",
                                 user__email="small@portal.example")
    small_branch = CustomerFactory(display_name="Small Co Branch")
    link_to_parent(customer=small_branch, parent=small.customer)
    small_invoice = InvoiceFactory(customer=small_branch, number="SMALL-1", total=Decimal("100.00"),
                                   balance_due=Decimal("60.00"), status="partially_paid",
                                   issued_on=dt.date(2026, 8, 1), due_on=dt.date(2026, 8, 31))
    small_payment = PaymentFactory(customer=small_branch, number="SMALL-PAY-1", amount=Decimal("40.00"),
                                   unallocated=Decimal("0.00"), paid_on=dt.date(2026, 8, 20))
    Allocation.objects.create(payment=small_payment, invoice=small_invoice, amount=Decimal("40.00"),
                              payer_customer=small_branch, invoice_customer=small_branch)

    big = ContactPersonFactory(customer__display_name="Bench Holdings", email="bench@portal.example",
                               user__email="bench@portal.example")
    parent = big.customer
    started = time.perf_counter()
    Customer.objects.bulk_create(
        [Customer(display_name=f"Branch {n:04d}", company_name=f"Bench Branch {n:04d} LLC", parent=parent,
                  allow_parent_access=True, currency=parent.currency, billing_address=f"{n} Bench Street")
         for n in range(1, branches + 1)], batch_size=1000)
    branch_ids = list(Customer.objects.filter(parent=parent).order_by("pk").values_list("pk", flat=True))

    def invoice_rows():
        for b, customer_id in enumerate(branch_ids):
            for k in range(invoices):
                issued = LAST_ISSUE - dt.timedelta(weeks=k)
                total = Decimal(100 + (b * 7 + k * 13) % 900) + Decimal("0.50")
                if k >= 8:
                    status, due = "paid", Decimal("0.00")
                elif k % 3 == 0:
                    status, due = "partially_paid", total / 2
                else:
                    status, due = "sent", total
                yield (customer_id, f"B{b:04d}-{k:04d}", status, "USD", issued, issued + dt.timedelta(days=30),
                       total, total, due, dt.datetime.combine(issued, dt.time(9), tzinfo=dt.UTC))

    with transaction.atomic(), connection.cursor() as cursor:
        _copy(cursor.cursor, Invoice, invoice_rows(),
              ["customer_id", "number", "status", "currency", "issued_on", "due_on", "subtotal", "total",
               "balance_due", "sent_at"])
    copied = time.perf_counter() - started
    # A payment every fourth week per branch, applied in full to that week's (paid) invoice.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            SELECT id, customer_id, number, issued_on, total FROM billing_invoice
            WHERE customer_id = ANY(%s) AND status = 'paid' AND substring(number from 7)::int %% 4 = 0""",
                       [branch_ids])
        paid = cursor.fetchall()
        _copy(cursor.cursor, Payment,
              ((customer_id, f"P{number}", "USD", issued + dt.timedelta(days=10), total, Decimal("0.00"),
                "succeeded", f"ACH-{number}") for _id, customer_id, number, issued, total in paid),
              ["customer_id", "number", "currency", "paid_on", "amount", "unallocated", "status", "reference"])
        cursor.execute("""
            INSERT INTO billing_allocation (payment_id, invoice_id, amount, applied_on, created_at,
                                            payer_customer_id, invoice_customer_id)
            SELECT p.id, i.id, i.total, p.paid_on, now(), p.customer_id, i.customer_id
            FROM billing_payment p JOIN billing_invoice i ON p.number = 'P' || i.number
            WHERE i.customer_id = ANY(%s)""", [branch_ids])
    # Written without the ledger services: compute the accounts' kept figures as a data load must.
    from billing.services.account_totals import rebuild_account_totals

    rebuild_account_totals()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"branches": len(branch_ids), "invoices": Invoice.objects.filter(customer__parent=parent).count(),
            "payments": Payment.objects.filter(customer__parent=parent).count(),
            "allocations": Allocation.objects.filter(payment__customer__parent=parent).count(),
            "copy_seconds": round(copied, 1), "seconds": round(time.perf_counter() - started, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--db", default="bench_portal")
    args = parser.parse_args()
    if not args.db.startswith("bench_"):
        sys.exit("refusing: the benchmark database's name must start with bench_")
    for sql in (f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)", f"CREATE DATABASE {args.db}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", sql], check=True)
    os.environ["DATABASE_URL"] = database_url(args.db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_portal")
    os.environ.setdefault("REDIS_AVAILABLE", "0")
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT, env=os.environ)
    print(f"migrated in {time.perf_counter() - started:.1f}s")
    print(seed(branches=args.branches, invoices=args.invoices))


if __name__ == "__main__":
    main()
