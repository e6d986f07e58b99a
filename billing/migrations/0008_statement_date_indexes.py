"""Indexes for the statement page at scale (`billing.selectors.statements.statement_page`; bench/portal_pages.py:
a parent with 1,000 branches and 200,000 invoices). Added by the statement helper; the ledger's models are unchanged.

- each document by (customer, date), with the figures the statement sums: a period's lines and the opening
  balance (everything before the period) of one or a thousand customers are index(-only) range scans;
- each application or reversal by its date: a period's transfers are found without reading every allocation.

Plain SQL, not in the models' Meta, as in 0007 (covering columns on PostgreSQL only): the ledger's
model state is untouched and `makemigrations --check` stays clean.
"""

from django.db import migrations

# (name, table and key columns, columns PostgreSQL stores in the index for index-only scans).
# INCLUDE is PostgreSQL's; SQLite (the `make run` default) gets the same keys without it.
INDEXES = [
    (
        "billing_invoice_customer_issued",
        "billing_invoice (customer_id, issued_on)",
        "total, status, is_retainer, number, id",
    ),
    ("billing_payment_customer_paid", "billing_payment (customer_id, paid_on)", "amount, status, number, id"),
    ("billing_creditnote_customer_issued", "billing_creditnote (customer_id, issued_on)", "total, status, number"),
    ("billing_refund_customer_refunded", "billing_refund (customer_id, refunded_on)", "amount"),
    ("billing_allocation_applied", "billing_allocation (applied_on)", ""),
    ("billing_creditapplication_applied", "billing_creditapplication (applied_on)", ""),
    ("billing_retainerapplication_applied", "billing_retainerapplication (applied_on)", ""),
    ("billing_allocationreversal_reversed", "billing_allocationreversal (reversed_on)", ""),
]


def create_indexes(apps, schema_editor):
    covering = schema_editor.connection.vendor == "postgresql"
    for name, keys, include in INDEXES:
        covered = f" INCLUDE ({include})" if include and covering else ""
        schema_editor.execute(f"CREATE INDEX {name} ON {keys}{covered}")


def drop_indexes(apps, schema_editor):
    for name, _keys, _include in INDEXES:
        schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0007_portal_open_invoice_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
