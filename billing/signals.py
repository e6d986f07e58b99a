"""Signals billing sends so that other apps (a CRM integration, a cache) can follow its writes.

Billing imports none of their receivers. Django sends `post_save` for one row at a time; the bulk
writes of ledger rows (`bulk_create`, `bulk_update`, queryset `update`, which the services use to
send invoices and apply payments and credits) send `ledger_rows_written` instead.
"""

from django.dispatch import Signal

#: Ledger rows were written in bulk. Arguments: `sender` (the model class the queryset is of, which
#: may be a proxy such as RetainerInvoice) and `pks` (the ids of the rows written). Sent inside the
#: writer's transaction: a receiver that acts outside the database waits for the commit
#: (`transaction.on_commit`).
ledger_rows_written = Signal()
