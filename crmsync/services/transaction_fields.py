"""The custom fields the transaction push writes, which a fresh Zoho CRM org does not have.

`Billing_Document_Id` on Invoices and Sales_Orders and `Billing_Item_Id` on Products are the
upserts' duplicate check fields (unique: "Do not allow duplicate values"); `Balance_Due` on Invoices
holds what is left to pay. They are created at connect and configure when transactions are switched
on, and checked by the scheduled run until a first document was pushed. Custom fields are created
with POST /crm/v8/settings/fields?module= (scope ZohoCRM.settings.fields.CREATE or .ALL), and Zoho
names a field after its label (https://www.zoho.com/crm/developer/docs/api/v8/create-custom-field.html).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from crmsync.services.custom_fields import CustomField, ensure_custom_fields
from crmsync.services.products import PRODUCT_ID_FIELD, PRODUCTS
from crmsync.zoho import ZohoClient

ID_FIELD = "Billing_Document_Id"  # a custom field of Invoices and Sales_Orders (unique); the upsert's duplicate check
BALANCE_FIELD = "Balance_Due"  # a custom currency field of Invoices


# The fields the push writes that a fresh Zoho org does not have.
TRANSACTION_FIELDS = (
    CustomField("Invoices", ID_FIELD, "text", unique=True),
    CustomField("Invoices", BALANCE_FIELD, "currency"),
    CustomField("Sales_Orders", ID_FIELD, "text", unique=True),
    CustomField(PRODUCTS, PRODUCT_ID_FIELD, "text", unique=True),
)


def ensure_transaction_fields(*, client: ZohoClient) -> list[tuple[str, str]]:
    """Create the custom fields the push writes (`TRANSACTION_FIELDS`) that the CRM lacks.

    Returns (module, what staff must do) for each module whose fields could not be read or
    created: empty when all exist.
    """
    return ensure_custom_fields(
        client=client,
        fields=TRANSACTION_FIELDS,
        then=_("invoices and sales orders are pushed once it exists"),
    )
