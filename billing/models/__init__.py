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
    SalesOrder,
    SalesOrderLine,
    Subscription,
)
from .organisation import Organisation

__all__ = [
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
    "SalesOrder",
    "SalesOrderLine",
    "Subscription",
    "ContactPerson",
    "Customer",
    "CustomerGroup",
    "Item",
    "Organisation",
    "PriceList",
    "PriceListItem",
]
