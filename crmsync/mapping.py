"""Field mapping between Zoho CRM records and billing customers / contact persons.

A mapping is a list of `[crm_api_name, billing_target]` pairs per CRM module. Several CRM
fields may feed one target (the address lines), joined in mapping order. A target named
`custom:<key>` goes into `Customer.custom_fields[<key>]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import ContactPerson, Customer

ACCOUNTS = "Accounts"
CONTACTS = "Contacts"
CUSTOM_PREFIX = "custom:"

# Customer fields a CRM field may feed, with how the value is read.
CUSTOMER_TARGETS = {
    "display_name": gettext_lazy("Display name"),
    "company_name": gettext_lazy("Company name"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "website": gettext_lazy("Website"),
    "billing_address": gettext_lazy("Billing address"),
    "shipping_address": gettext_lazy("Shipping address"),
    "tax_id": gettext_lazy("Tax number"),
    "payment_terms_days": gettext_lazy("Payment terms (days, from an integer field)"),
    "notes": gettext_lazy("Notes"),
}

# Which Zoho field types (`data_type` in settings/fields) may feed each target: text targets take
# text-like fields (a picklist's value is text), payment terms an integer. A currency, number, date,
# boolean or lookup cannot become a name, an email or an address.
_TEXT_TYPES = frozenset({"text", "textarea", "picklist", "autonumber"})
TARGET_TYPES = {
    "display_name": _TEXT_TYPES,
    "company_name": _TEXT_TYPES | {"lookup"},
    "email": frozenset({"email", "text"}),
    "phone": frozenset({"phone", "text"}),
    "website": frozenset({"website", "text"}),
    "billing_address": _TEXT_TYPES,
    "shipping_address": _TEXT_TYPES,
    "tax_id": _TEXT_TYPES,
    "payment_terms_days": frozenset({"integer", "bigint"}),
    "notes": _TEXT_TYPES | {"multiselectpicklist"},
}
# Custom fields keep any single value; files, images and subforms are not values.
CUSTOM_TYPES = _TEXT_TYPES | {
    "email", "phone", "website", "multiselectpicklist", "integer", "bigint", "double", "currency",
    "decimal", "percent", "boolean", "date", "datetime", "lookup",
}  # fmt: skip


def type_problem(*, field: dict, target: str) -> str:
    """Why this CRM field (an entry of settings/fields) cannot feed `target`, else ""."""
    data_type = field.get("data_type")
    allowed = CUSTOM_TYPES if target.startswith(CUSTOM_PREFIX) else TARGET_TYPES.get(target)
    if not data_type or allowed is None or data_type in allowed:
        return ""
    label = CUSTOMER_TARGETS.get(target, _("a custom field"))
    return _("%(field)s is a Zoho CRM field of type %(type)s; it cannot feed %(target)s.") % {
        "field": field.get("api_name", ""),
        "type": data_type,
        "target": label,
    }


DEFAULT_MAPPING = {
    ACCOUNTS: [
        ["Account_Name", "display_name"],
        ["Email", "email"],
        ["Phone", "phone"],
        ["Website", "website"],
        ["Billing_Street", "billing_address"],
        ["Billing_City", "billing_address"],
        ["Billing_State", "billing_address"],
        ["Billing_Code", "billing_address"],
        ["Billing_Country", "billing_address"],
        ["Shipping_Street", "shipping_address"],
        ["Shipping_City", "shipping_address"],
        ["Shipping_State", "shipping_address"],
        ["Shipping_Code", "shipping_address"],
        ["Shipping_Country", "shipping_address"],
        ["Payment_Terms", "payment_terms_days"],
    ],
    CONTACTS: [
        ["Full_Name", "display_name"],
        ["Email", "email"],
        ["Phone", "phone"],
        ["Mailing_Street", "billing_address"],
        ["Mailing_City", "billing_address"],
        ["Mailing_State", "billing_address"],
        ["Mailing_Zip", "billing_address"],
        ["Mailing_Country", "billing_address"],
        ["Other_Street", "shipping_address"],
        ["Other_City", "shipping_address"],
        ["Other_Zip", "shipping_address"],
        ["Other_Country", "shipping_address"],
        ["Payment_Terms", "payment_terms_days"],
    ],
}
# Contact persons (Accounts and their Contacts) have a fixed mapping: they have no custom fields.
CONTACT_PERSON_FIELDS = {
    "First_Name": "first_name",
    "Last_Name": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Mobile": "mobile",
    "Title": "designation",
    "Salutation": "salutation",
}
NAME_FIELD = {ACCOUNTS: "Account_Name", CONTACTS: "Full_Name"}
# Zoho's upsert needs a field to find an existing record by; the name for accounts, the email
# for contacts (two people may share a name).
DUPLICATE_CHECK_FIELD = {ACCOUNTS: "Account_Name", CONTACTS: "Email"}

# Billing stamps a customer's `updated_at` a few milliseconds after the link's `synced_at` the
# sync sets; an edit counts as made in billing after a sync only past this margin.
EDIT_TOLERANCE = timedelta(seconds=1)


def _max_length(model, field: str) -> int | None:
    return model._meta.get_field(field).max_length


_CUSTOMER_MAX = {f: _max_length(Customer, f) for f in CUSTOMER_TARGETS if f != "payment_terms_days"}
_PERSON_MAX = {f: _max_length(ContactPerson, f) for f in CONTACT_PERSON_FIELDS.values()}


def mapping_for(mapping: dict, module: str) -> list[tuple[str, str]]:
    pairs = mapping.get(module) or DEFAULT_MAPPING[module]
    return [(crm, target) for crm, target in pairs]


def crm_fields_to_read(mapping: dict, module: str, *, with_account: bool = False) -> list[str]:
    """The explicit `fields` list for the API (Zoho v8 requires it)."""
    fields = {crm for crm, _target in mapping_for(mapping, module)} | {NAME_FIELD[module], "Modified_Time"}
    if module == CONTACTS:
        fields |= set(CONTACT_PERSON_FIELDS) | {"Account_Name"}
    return sorted(fields)


def validate_mapping(*, mapping: dict, crm_fields: dict[str, list[dict]]) -> dict:
    """Check every pair against the CRM's field list and our targets. Returns the cleaned mapping.

    Raises ValidationError naming the unknown field, so staff can fix the mapping.
    """
    cleaned: dict[str, list[list[str]]] = {}
    for module, pairs in mapping.items():
        known = {f["api_name"]: f for f in crm_fields.get(module, [])}
        rows = []
        for crm, target in pairs:
            if crm not in known:
                raise ValidationError(
                    _("Zoho CRM has no field %(field)s in %(module)s. Pick one of its fields or remove the row."),
                    code="unknown_crm_field",
                    params={"field": crm, "module": module},
                )
            if not (target in CUSTOMER_TARGETS or (target.startswith(CUSTOM_PREFIX) and len(target) > 7)):
                raise ValidationError(
                    _("%(target)s is not a billing field."), code="unknown_target", params={"target": target}
                )
            if target == "payment_terms_days" and known[crm].get("data_type") not in ("integer", "bigint"):
                raise ValidationError(
                    _("Payment terms need an integer field; %(field)s is a %(type)s field."),
                    code="terms_not_integer",
                    params={"field": crm, "type": known[crm].get("data_type")},
                )
            problem = type_problem(field=known[crm], target=target)
            if problem:
                raise ValidationError(problem, code="type_mismatch")
            rows.append([crm, target])
        if not any(t == "display_name" for _c, t in rows):
            raise ValidationError(
                _("Map a CRM field to the customer's display name for %(module)s."),
                code="no_display_name",
                params={"module": module},
            )
        cleaned[module] = rows
    return cleaned


def default_mapping(*, crm_fields: dict[str, list[dict]]) -> dict:
    """The defaults, minus fields this CRM does not have (custom fields such as Payment_Terms)."""
    out = {}
    for module, pairs in DEFAULT_MAPPING.items():
        known = {f["api_name"] for f in crm_fields.get(module, [])}
        out[module] = [list(p) for p in pairs if not known or p[0] in known]
    return out


@dataclass
class Mapped:
    """A CRM record turned into customer values, or the reason it cannot be."""

    crm_id: str
    values: dict[str, Any]
    custom: dict[str, Any]
    error: str = ""
    modified_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.values.get("display_name", "")


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # a lookup: {"name": ..., "id": ...}
        return str(value.get("name") or "")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def map_customer(record: dict[str, Any], pairs: list[tuple[str, str]], *, module: str) -> Mapped:
    """One CRM record → Customer field values (strings cut to the column), custom fields apart.

    Emails and websites are checked by billing's page service, for the rows it is given to write:
    an unchanged record costs no check.
    """
    crm_id = str(record["id"])
    parts: dict[str, list[str]] = {}
    custom: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for crm, target in pairs:
        raw = record.get(crm)
        if target.startswith(CUSTOM_PREFIX):
            custom[target.removeprefix(CUSTOM_PREFIX)] = raw if isinstance(raw, int | float | bool) else _text(raw)
        elif target == "payment_terms_days":
            if raw in (None, ""):
                values[target] = None
            elif isinstance(raw, int) and 0 <= raw <= 365:
                values[target] = raw
            else:
                return Mapped(
                    crm_id,
                    values,
                    custom,
                    error=_("Payment terms %(value)s is not a number of days between 0 and 365.") % {"value": raw},
                )
        else:
            text = _text(raw)
            if text:
                parts.setdefault(target, []).append(text)
    for target in CUSTOMER_TARGETS:
        if target == "payment_terms_days":
            continue
        joined = ("\n" if target.endswith("address") else " ").join(parts.get(target, []))
        limit = _CUSTOMER_MAX.get(target)
        values[target] = joined[:limit] if limit else joined
    if module == CONTACTS and not values["display_name"]:
        values["display_name"] = " ".join(
            p for p in (_text(record.get("First_Name")), _text(record.get("Last_Name"))) if p
        )[:255]
    if not values["display_name"]:
        return Mapped(crm_id, values, custom, error=_("The record has no name."))
    if values["website"] and "://" not in values["website"]:
        values["website"] = "https://" + values["website"]
    if module == ACCOUNTS and not values["company_name"]:
        values["company_name"] = values["display_name"]
    return Mapped(crm_id, values, custom, modified_at=_datetime(record.get("Modified_Time")))


def map_contact_person(record: dict[str, Any]) -> Mapped:
    crm_id = str(record["id"])
    values = {target: _text(record.get(crm)) for crm, target in CONTACT_PERSON_FIELDS.items()}
    if not values["first_name"]:
        values["first_name"], values["last_name"] = values["last_name"], ""
    for field, limit in _PERSON_MAX.items():
        if limit:
            values[field] = values[field][:limit]
    if not values["first_name"]:
        return Mapped(crm_id, values, {}, error=_("The contact has no name."))
    return Mapped(crm_id, values, {})


def account_id_of(record: dict[str, Any]) -> str | None:
    lookup = record.get("Account_Name")
    if isinstance(lookup, dict) and lookup.get("id"):
        return str(lookup["id"])
    return None


def customer_to_crm(
    customer: Customer, pairs: list[tuple[str, str]], *, module: str, crm_id: str | None = None
) -> dict[str, Any]:
    """A billing customer → a CRM record for upsert: one-to-one mapped fields, names always; `crm_id`
    is the record it is linked to in `module`, if any."""
    by_target: dict[str, list[str]] = {}
    for crm, target in pairs:
        by_target.setdefault(target, []).append(crm)
    record: dict[str, Any] = {}
    for target, crm_fields in by_target.items():
        crm_fields = [f for f in crm_fields if f not in ("Full_Name", "Modified_Time", "Created_Time")]
        if not crm_fields or target == "display_name":
            continue
        if target.startswith(CUSTOM_PREFIX):
            value = customer.custom_fields.get(target.removeprefix(CUSTOM_PREFIX))
        else:
            value = getattr(customer, target)
        # A composed value (an address fed by street, city…) goes whole into the first field and
        # clears the others, so fetching it back joins to the same text instead of clobbering it.
        record[crm_fields[0]] = None if value == "" else value
        for other in crm_fields[1:]:
            record[other] = None
    if module == ACCOUNTS:
        record["Account_Name"] = customer.display_name
    else:
        first, _sep, last = customer.display_name.rpartition(" ")
        record["First_Name"], record["Last_Name"] = first, last or customer.display_name
        if customer.email:
            record["Email"] = customer.email
    if customer.customer_type == Customer.Type.BUSINESS and module == CONTACTS:
        record.pop("Account_Name", None)
    if crm_id:
        record["id"] = crm_id
    return record
