"""Custom fields billing writes in Zoho CRM, created when a fresh CRM org lacks them.

Custom fields are created with POST /crm/v8/settings/fields?module= (scope
ZohoCRM.settings.fields.CREATE or .ALL), and Zoho names a field after its label, spaces becoming
underscores (https://www.zoho.com/crm/developer/docs/api/v8/create-custom-field.html, read
2026-12-03). Used for the transaction push (`transaction_fields`) and the receivables
(`receivables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from crmsync.zoho import CrmError, CrmMalformedResponse, ZohoClient


@dataclass(frozen=True)
class CustomField:
    module: str
    api_name: str
    data_type: str
    unique: bool = False

    @property
    def label(self) -> str:
        return self.api_name.replace("_", " ")


def ensure_custom_fields(*, client: ZohoClient, fields: Sequence[CustomField], then: str) -> list[tuple[str, str]]:
    """Create those of `fields` the CRM lacks. Returns (module, what staff must do) for each module
    whose fields could not be read or created (e.g. the token lacks ZohoCRM.settings.fields.CREATE);
    empty when all exist. `then` ends the sentence: what happens once the fields exist. `unique`
    is the shape of the `unique` key in Zoho's field metadata ("Do not allow duplicate values"),
    which a duplicate check field needs. Writes nothing in billing; safe to repeat."""
    problems = []
    for module in dict.fromkeys(f.module for f in fields):
        wanted = [f for f in fields if f.module == module]
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
            problems.append((module, _fields_problem(module, [f for f, _code in refused], why, then)))
    return problems


def _field_definition(field: CustomField) -> dict[str, Any]:
    definition: dict[str, Any] = {"field_label": field.label, "data_type": field.data_type}
    if field.data_type == "text":
        definition["length"] = 255
    if field.unique:
        definition["unique"] = {"casesensitive": False}
    return definition


def _fields_problem(module: str, fields: list[CustomField], why: str, then: str) -> str:
    described = "; ".join(
        _("%(name)s (a %(type)s field labelled “%(label)s”%(unique)s)")
        % {
            "name": f.api_name,
            "type": _("single-line text") if f.data_type == "text" else f.data_type,
            "label": f.label,
            "unique": _(", with “Do not allow duplicate values” ticked") if f.unique else "",
        }
        for f in fields
    )
    return _(
        "Zoho CRM's %(module)s module lacks %(fields)s and billing could not create it%(why)s. Create it in "
        "Zoho CRM (Setup > Customization > Modules and Fields > %(module)s), or give the refresh token the "
        "ZohoCRM.settings.fields.ALL scope; %(then)s."
    ) % {"module": module, "fields": described, "why": f" ({why})" if why else "", "then": then}
