"""Indexes in the order the portal lists read (bench/portal_pages.py: a parent with 1,000 branches and
200,000 invoices), measured by the invoice-list and statement helpers on the bench database:

- open regular invoices by due date (the "unpaid"/"outstanding" list and its count): count 3.2 → 1.2 ms,
  first page 1.4 → 0.07 ms;
- regular invoices newest first (the default "all" tab): first page 131–155 ms (a sort of every invoice)
  → 0.1 ms;
- invoices, payments and credit notes in statement order (date, number in byte order, id): each kind's
  first rows of a period without sorting the period (statement lines 16 → 1.1 ms of execution).

PostgreSQL only (COLLATE "C", INCLUDE): SQLite is `make run`'s demo database, a few hundred rows.
Plain SQL as in 0007 and 0008, so the models' state is unchanged.
"""

from django.db import migrations

OPEN = "status IN ('sent', 'partially_paid') AND balance_due > 0 AND NOT is_retainer"
INDEXES = [
    ("billing_invoice_open_regular_due",
     f"billing_invoice (due_on, id DESC) INCLUDE (customer_id) WHERE {OPEN}"),
    ("billing_invoice_regular_issued",
     "billing_invoice (issued_on DESC, id DESC) INCLUDE (customer_id, status) WHERE NOT is_retainer"),
    ("billing_invoice_statement_order",
     'billing_invoice (issued_on, number COLLATE "C", id) INCLUDE (customer_id, total, status, is_retainer)'),
    ("billing_payment_statement_order",
     'billing_payment (paid_on, number COLLATE "C", id) INCLUDE (customer_id, amount, status)'),
    ("billing_creditnote_statement_order",
     'billing_creditnote (issued_on, number COLLATE "C", id) INCLUDE (customer_id, total, status)'),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_account_balance")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
