"""Both customers on every application row: `payer_customer` (whose money or credit: the payment's, credit
note's or retainer's customer) and `invoice_customer` (the invoice's), and on each allocation reversal the
two of its allocation. The statement then tells a transfer between two customers (a parent paying a
branch) from a customer paying its own invoice, almost every row, without looking up two documents per row
(bench/portal_pages.py: ~4,000 rows a quarter, ~12 ms of the statement page's totals query).

Added nullable, filled from the documents with one UPDATE ... FROM per table (PostgreSQL, and SQLite 3.33+
for `make run`), then made NOT NULL. On PostgreSQL, partial indexes on each table's date column hold the
real transfers only (plain SQL as in 0007, 0008 and 0010: the models' state is unchanged).
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, SET ... FROM ... WHERE) in dependency order: reversals copy their allocation's columns.
BACKFILL = [
    (
        "billing_allocation",
        """payer_customer_id = p.customer_id, invoice_customer_id = i.customer_id
        FROM billing_payment p, billing_invoice i
        WHERE p.id = billing_allocation.payment_id AND i.id = billing_allocation.invoice_id""",
    ),
    (
        "billing_creditapplication",
        """payer_customer_id = c.customer_id, invoice_customer_id = i.customer_id
        FROM billing_creditnote c, billing_invoice i
        WHERE c.id = billing_creditapplication.credit_note_id AND i.id = billing_creditapplication.invoice_id""",
    ),
    (
        "billing_retainerapplication",
        """payer_customer_id = r.customer_id, invoice_customer_id = i.customer_id
        FROM billing_invoice r, billing_invoice i
        WHERE r.id = billing_retainerapplication.retainer_id AND i.id = billing_retainerapplication.invoice_id""",
    ),
    (
        "billing_allocationreversal",
        """payer_customer_id = a.payer_customer_id, invoice_customer_id = a.invoice_customer_id
        FROM billing_allocation a
        WHERE a.id = billing_allocationreversal.allocation_id""",
    ),
]

TRANSFER = "payer_customer_id <> invoice_customer_id"
# The transfers between two customers by date, with what the statement's sums read (index-only scans).
INDEXES = [
    ("billing_allocation_transfer_applied", "billing_allocation", "applied_on"),
    ("billing_creditapplication_transfer_applied", "billing_creditapplication", "applied_on"),
    ("billing_retainerapplication_transfer_applied", "billing_retainerapplication", "applied_on"),
    ("billing_allocationreversal_transfer_reversed", "billing_allocationreversal", "reversed_on"),
]
COVERED = "payer_customer_id, invoice_customer_id, amount, id"


def fill_customers(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: checked now, so that the ALTER TABLEs
        # that follow (NOT NULL) find no pending trigger events.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for table, assignment in BACKFILL:
        schema_editor.execute(f"UPDATE {table} SET {assignment}")
    if postgresql:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX {name} ON {table} ({column}) INCLUDE ({COVERED}) WHERE {TRANSFER}")
        # The new columns and index get statistics now, not at the next autovacuum.
        schema_editor.execute(f"ANALYZE {table}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX {name}")


def _customer(null: bool):
    return models.ForeignKey(
        null=null, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="billing.customer"
    )


MODELS = ("allocation", "allocationreversal", "creditapplication", "retainerapplication")
FIELDS = ("payer_customer", "invoice_customer")


class Migration(migrations.Migration):
    dependencies = [("billing", "0010_portal_list_order_indexes")]

    operations = [
        *(migrations.AddField(model, name, _customer(null=True)) for model in MODELS for name in FIELDS),
        migrations.RunPython(fill_customers, migrations.RunPython.noop),
        *(migrations.AlterField(model, name, _customer(null=False)) for model in MODELS for name in FIELDS),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
