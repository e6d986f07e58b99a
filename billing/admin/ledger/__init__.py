"""Admin for invoices, retainers, payments, credit notes, sales orders and subscriptions.

Ledger rows are written only by services: actions and the get_urls() views call them and show
their ValidationError with message_user or on the form. Payments, allocations, credit
applications and refunds are never edited or deleted here; a correction is a new row.
Importing the package registers the ModelAdmins (PaymentAdmin before billing.admin.online
extends it).
"""

from . import documents, invoices, payments, sales_orders  # noqa: F401
