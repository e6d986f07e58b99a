"""Admin for invoices, retainers, payments, credit notes, sales orders and subscriptions."""
