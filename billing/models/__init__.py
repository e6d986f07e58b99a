from .catalog import Item, PriceList, PriceListItem
from .customers import ContactPerson, Customer, CustomerGroup
from .organisation import Organisation

__all__ = [
    "ContactPerson",
    "Customer",
    "CustomerGroup",
    "Item",
    "Organisation",
    "PriceList",
    "PriceListItem",
]
