"""Portal reads. Every one is scoped by the user's `PortalScope` (built once per request by
`portal.views.access.portal_view` as `request.portal_scope`), which states the one visibility rule,
`billing.selectors.visible_customers`; nothing in portal/ filters by customer any other way, so an object
outside the user's tree is simply not found. A new portal read goes in one of these modules and takes
`scope=`; views never build queries themselves (tests/portal/test_views_read_through_selectors.py)."""

from billing.selectors import visible_customers

from .documents import (
    not_invoiced,
    own_contacts,
    portal_logins,
    sales_order_page,
    subscriptions_with_invoices,
    uses_authenticator_app,
    visible_comments,
    visible_documents,
    visible_sales_orders,
    visible_statement_pdfs,
)
from .invoices import (
    PayNowState,
    invoice_page,
    invoice_to_pay,
    invoices_awaiting_bank_payment,
    outstanding_to_pay,
    pay_now_state,
    payable_invoices,
    processing_invoice_ids,
    sent_invoices,
    visible_credit_notes,
    with_payment_processing,
)
from .payments import (
    checkout_allocations,
    checkout_attempt,
    checkout_lines,
    last_payment,
    payment_receipt,
    payments_with_kind,
    saved_payment_methods,
    visible_payments,
)
from .scope import PortalScope

__all__ = [
    "PayNowState",
    "PortalScope",
    "checkout_allocations",
    "checkout_attempt",
    "checkout_lines",
    "invoice_page",
    "invoice_to_pay",
    "invoices_awaiting_bank_payment",
    "last_payment",
    "not_invoiced",
    "outstanding_to_pay",
    "own_contacts",
    "pay_now_state",
    "payable_invoices",
    "payment_receipt",
    "payments_with_kind",
    "portal_logins",
    "processing_invoice_ids",
    "sales_order_page",
    "saved_payment_methods",
    "sent_invoices",
    "subscriptions_with_invoices",
    "uses_authenticator_app",
    "visible_comments",
    "visible_credit_notes",
    "visible_customers",
    "visible_documents",
    "visible_payments",
    "visible_sales_orders",
    "visible_statement_pdfs",
    "with_payment_processing",
]
