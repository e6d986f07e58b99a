from .accounts import AccountBalance
from .catalog import Item, PriceList, PriceListItem
from .customers import ContactPerson, Customer, CustomerGroup
from .ledger import (
    Allocation,
    AllocationReversal,
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    RetainerApplication,
    RetainerInvoice,
    SalesOrder,
    SalesOrderLine,
    Subscription,
)
from .online import CheckoutAttempt, CheckoutLine, GatewayCustomer, GatewayEvent, SandboxObject, SavedPaymentMethod
from .organisation import Organisation

__all__ = [
    "AccountBalance",
    "Allocation",
    "AllocationReversal",
    "CreditApplication",
    "CreditNote",
    "CreditNoteLine",
    "DocumentSequence",
    "Invoice",
    "InvoiceLine",
    "Payment",
    "Refund",
    "RetainerApplication",
    "RetainerInvoice",
    "SalesOrder",
    "SalesOrderLine",
    "Subscription",
    "ContactPerson",
    "Customer",
    "CustomerGroup",
    "Item",
    "Organisation",
    "CheckoutAttempt",
    "CheckoutLine",
    "GatewayCustomer",
    "GatewayEvent",
    "SandboxObject",
    "SavedPaymentMethod",
    "PriceList",
    "PriceListItem",
]
