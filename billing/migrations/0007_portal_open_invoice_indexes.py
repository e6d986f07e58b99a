"""Partial indexes for the portal at scale (bench/portal_pages.py: a parent with 1,000 branches and
200,000 invoices). Added by the portal helper; the ledger's models are unchanged.

- open invoices (sent / partially paid with a balance): the balance summary's totals and the invoice
  list's "unpaid"/"overdue" filters read ~4% of the table; in due-date order for "sort by due date".
- retainer invoices per customer: the retainer figures on home (otherwise a scan of every invoice).
- succeeded payments newest first: "last payment made" (otherwise a sort of every payment); and those
  with money not yet applied (available credits), which are few.

Plain SQL (PostgreSQL and SQLite both have partial indexes); not in the models' Meta, so the ledger's
model state is untouched and `makemigrations --check` stays clean.
"""

from django.db import migrations

INDEXES = [
    ("billing_invoice_open_due",
     "billing_invoice (due_on, customer_id) WHERE status IN ('sent', 'partially_paid') AND balance_due > 0"),
    ("billing_invoice_retainer_customer", "billing_invoice (customer_id) WHERE is_retainer"),
    ("billing_payment_succeeded_latest", "billing_payment (paid_on, id) WHERE status = 'succeeded'"),
    ("billing_payment_unallocated", "billing_payment (customer_id) WHERE status = 'succeeded' AND unallocated > 0"),
]


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_invoice_line_sales_order_line")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX {name} ON {spec}", f"DROP INDEX {name}") for name, spec in INDEXES
    ]
