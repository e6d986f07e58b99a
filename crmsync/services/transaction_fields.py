"""The custom fields the transaction push writes, which a fresh Zoho CRM org does not have.

`Billing_Document_Id` on Invoices and Sales_Orders and `Billing_Item_Id` on Products are the
upserts' duplicate check fields (unique: "Do not allow duplicate values"); `Balance_Due` on Invoices
holds what is left to pay. They are created at connect and configure when transactions are switched
on, and checked by the scheduled run until a first document was pushed. Custom fields are created
with POST /crm/v8/settings/fields?module= (scope ZohoCRM.settings.fields.CREATE or .ALL), and Zoho
names a field after its label (https://www.zoho.com/crm/developer/docs/api/v8/create-custom-field.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crmsync.clients import client_for
from crmsync.models import CrmConnection
from crmsync.services.products import PRODUCT_ID_FIELD, PRODUCTS
from crmsync.zoho import CrmError, CrmMalformedResponse, ZohoClient

ID_FIELD = "Billing_Document_Id"  # a custom field of Invoices and Sales_Orders (unique); the upsert's duplicate check
BALANCE_FIELD = "Balance_Due"  # a custom currency field of Invoices


@dataclass(frozen=True)
class CustomField:
    module: str
    api_name: str
    data_type: str
    unique: bool = False


# The fields the push writes that a fresh Zoho org does not have.
TRANSACTION_FIELDS = (
    CustomField("Invoices", ID_FIELD, "text", unique=True),
    CustomField("Invoices", BALANCE_FIELD, "currency"),
    CustomField("Sales_Orders", ID_FIELD, "text", unique=True),
    CustomField(PRODUCTS, PRODUCT_ID_FIELD, "text", unique=True),
)


def prepare_transaction_push(*, connection: CrmConnection) -> list[str]:
    """At connect and configure, with transactions switched on: create the CRM fields the push needs.

    Returns what staff must fix, one sentence per module (empty when everything is ready or the
    push is off). Writes nothing in billing; safe to repeat.
    """
    if not (connection.push_transactions and connection.has_credentials):
        return []
    with client_for(connection) as client:
        return [problem for _module, problem in ensure_transaction_fields(client=client)]


def ensure_transaction_fields(*, client: ZohoClient) -> list[tuple[str, str]]:
    """Create the custom fields the push writes (`TRANSACTION_FIELDS`) that the CRM lacks.

    Returns (module, what staff must do) for each module whose fields could not be read or
    created (e.g. the token lacks ZohoCRM.settings.fields.CREATE): empty when all exist. Zoho names
    a custom field after its label (spaces → underscores), so the label is the API name with spaces;
    `unique` is the shape of the `unique` key in Zoho's field metadata ("Do not allow duplicate
    values"), which a duplicate check field needs.
    """
    problems = []
    for module in dict.fromkeys(f.module for f in TRANSACTION_FIELDS):
        wanted = [f for f in TRANSACTION_FIELDS if f.module == module]
        try:
            existing = {f.get("api_name") for f in client.fields(module) if isinstance(f, dict)}
            missing = [f for f in wanted if f.api_name not in existing]
            if not missing:
                continue
            body = client.request(
                "POST",
                "settings/fields",
                params={"module": module},
                json={"fields": [_field_definition(f) for f in missing]},
            )
            results = body.get("fields") if isinstance(body, dict) else None
            if not isinstance(results, list) or len(results) != len(missing):
                raise CrmMalformedResponse("Zoho CRM answered the field creation without one result per field.")
            refused = [
                (f, r.get("code", "ERROR") if isinstance(r, dict) else "ERROR")
                for f, r in zip(missing, results, strict=True)
                if not (isinstance(r, dict) and r.get("status") == "success")
            ]
            why = ", ".join(sorted({code for _f, code in refused}))
        except CrmError as exc:
            refused, why = [(f, "") for f in wanted], exc.reason
        if refused:
            problems.append((module, _fields_problem(module, [f for f, _code in refused], why)))
    return problems


def _field_definition(field: CustomField) -> dict[str, Any]:
    definition: dict[str, Any] = {"field_label": field.api_name.replace("_", " "), "data_type": field.data_type}
    if field.data_type == "text":
        definition["length"] = 255
    if field.unique:
        definition["unique"] = {"casesensitive": False}
    return definition


def _fields_problem(module: str, fields: list[CustomField], why: str) -> str:
    described = "; ".join(
        _("%(name)s (a %(type)s field labelled “%(label)s”%(unique)s)")
        % {
            "name": f.api_name,
            "type": _("single-line text") if f.data_type == "text" else f.data_type,
            "label": f.api_name.replace("_", " "),
            "unique": _(", with “Do not allow duplicate values” ticked") if f.unique else "",
        }
        for f in fields
    )
    return _(
        "Zoho CRM's %(module)s module lacks %(fields)s and billing could not create it%(why)s. Create it in "
        "Zoho CRM (Setup > Customization > Modules and Fields > %(module)s), or give the refresh token the "
        "ZohoCRM.settings.fields.ALL scope; invoices and sales orders are pushed once it exists."
    ) % {"module": module, "fields": described, "why": f" ({why})" if why else ""}
