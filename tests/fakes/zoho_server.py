"""A fake Zoho CRM (REST API v8 and the OAuth token endpoint) over a real HTTP socket.

Tests start it on a free port and script it through the `FakeZoho` object (records, views,
deletions, token expiry, 429/5xx storms, malformed pages); `make run` starts it from the
command line with demo data so the sync can be tried offline:

    python -m tests.fakes.zoho_server --port 8765 --demo

Same JSON shapes as Zoho: `{"data": [...], "info": {"per_page", "count", "page",
"more_records", "next_page_token"}}`, 204 when nothing matches, `{"code": "INVALID_TOKEN"}`
401s, `page` refused past 2,000 records (page_token required), upsert limited to 100.

Writes are checked as Zoho checks them, one result per record: a field the module does not have
(standard, created through `settings/fields`, or added by a test) is INVALID_DATA with its
api_name; an Invoice or Sales Order needs its item rows (`Invoiced_Items` / `Ordered_Items`), each
pointing at a Products record (`Product_Name: {"id"}`), else MANDATORY_NOT_FOUND / INVALID_DATA
with the api_name. Item rows follow Zoho's subform update rule: rows sent without an id are added,
a row sent with its id and `"_delete": null` is removed, the others stay; the fake computes each
row's totals and the record's Sub_Total and Grand_Total from them, as Zoho does.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

MODULES = ("Accounts", "Contacts", "Deals", "Invoices", "Sales_Orders", "Products")
DEMO_CLIENT_ID = "1000.DEMOCLIENT"
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_REFRESH_TOKEN = "1000.demo-refresh-token"

_FIELD_DEFS = {
    "Accounts": [
        ("Account_Name", "Account Name", "text", False),
        ("Phone", "Phone", "phone", False),
        ("Website", "Website", "website", False),
        ("Account_Number", "Account Number", "text", False),
        ("Industry", "Industry", "picklist", False),
        ("Billing_Street", "Billing Street", "text", False),
        ("Billing_City", "Billing City", "text", False),
        ("Billing_State", "Billing State", "text", False),
        ("Billing_Code", "Billing Code", "text", False),
        ("Billing_Country", "Billing Country", "text", False),
        ("Shipping_Street", "Shipping Street", "text", False),
        ("Shipping_City", "Shipping City", "text", False),
        ("Shipping_State", "Shipping State", "text", False),
        ("Shipping_Code", "Shipping Code", "text", False),
        ("Shipping_Country", "Shipping Country", "text", False),
        ("Description", "Description", "textarea", False),
        ("Email", "Email", "email", True),
        ("Payment_Terms", "Payment Terms", "integer", True),
        ("Customer_Tier", "Customer Tier", "picklist", True),
        ("Tax_Number", "Tax Number", "text", True),
        ("Created_Time", "Created Time", "datetime", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
    "Contacts": [
        ("Salutation", "Salutation", "picklist", False),
        ("First_Name", "First Name", "text", False),
        ("Last_Name", "Last Name", "text", False),
        ("Full_Name", "Full Name", "text", False),
        ("Email", "Email", "email", False),
        ("Phone", "Phone", "phone", False),
        ("Mobile", "Mobile", "phone", False),
        ("Title", "Title", "text", False),
        ("Account_Name", "Account Name", "lookup", False),
        ("Mailing_Street", "Mailing Street", "text", False),
        ("Mailing_City", "Mailing City", "text", False),
        ("Mailing_State", "Mailing State", "text", False),
        ("Mailing_Zip", "Mailing Zip", "text", False),
        ("Mailing_Country", "Mailing Country", "text", False),
        ("Other_Street", "Other Street", "text", False),
        ("Other_City", "Other City", "text", False),
        ("Other_Zip", "Other Zip", "text", False),
        ("Other_Country", "Other Country", "text", False),
        ("Payment_Terms", "Payment Terms", "integer", True),
        ("Customer_Tier", "Customer Tier", "picklist", True),
        ("Created_Time", "Created Time", "datetime", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
    "Deals": [
        ("Deal_Name", "Deal Name", "text", False),
        ("Stage", "Stage", "picklist", False),
        ("Amount", "Amount", "currency", False),
        ("Closing_Date", "Closing Date", "date", False),
        ("Account_Name", "Account Name", "lookup", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
    # The inventory modules of a fresh org: no Billing_Document_Id, Balance_Due or Billing_Item_Id
    # until someone creates them (POST settings/fields).
    "Invoices": [
        ("Subject", "Subject", "text", False),
        ("Invoice_Number", "Invoice Number", "autonumber", False),
        ("Invoice_Date", "Invoice Date", "date", False),
        ("Due_Date", "Due Date", "date", False),
        ("Status", "Status", "picklist", False),
        ("Account_Name", "Account Name", "lookup", False),
        ("Deal_Name", "Deal Name", "lookup", False),
        ("Contact_Name", "Contact Name", "lookup", False),
        ("Sales_Order", "Sales Order", "lookup", False),
        ("Purchase_Order", "Purchase Order", "text", False),
        ("Currency", "Currency", "picklist", False),
        ("Exchange_Rate", "Exchange Rate", "double", False),
        ("Invoiced_Items", "Invoiced Items", "subform", False),
        ("Sub_Total", "Sub Total", "currency", False),
        ("Discount", "Discount", "currency", False),
        ("Tax", "Tax", "currency", False),
        ("Adjustment", "Adjustment", "currency", False),
        ("Grand_Total", "Grand Total", "currency", False),
        ("Description", "Description", "textarea", False),
        ("Terms_and_Conditions", "Terms and Conditions", "textarea", False),
        ("Created_Time", "Created Time", "datetime", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
    "Sales_Orders": [
        ("Subject", "Subject", "text", False),
        ("SO_Number", "SO Number", "autonumber", False),
        ("Customer_No", "Customer No", "text", False),
        ("Due_Date", "Due Date", "date", False),
        ("Status", "Status", "picklist", False),
        ("Account_Name", "Account Name", "lookup", False),
        ("Deal_Name", "Deal Name", "lookup", False),
        ("Quote_Name", "Quote Name", "lookup", False),
        ("Contact_Name", "Contact Name", "lookup", False),
        ("Purchase_Order", "Purchase Order", "text", False),
        ("Carrier", "Carrier", "picklist", False),
        ("Currency", "Currency", "picklist", False),
        ("Exchange_Rate", "Exchange Rate", "double", False),
        ("Ordered_Items", "Ordered Items", "subform", False),
        ("Sub_Total", "Sub Total", "currency", False),
        ("Discount", "Discount", "currency", False),
        ("Tax", "Tax", "currency", False),
        ("Adjustment", "Adjustment", "currency", False),
        ("Grand_Total", "Grand Total", "currency", False),
        ("Description", "Description", "textarea", False),
        ("Terms_and_Conditions", "Terms and Conditions", "textarea", False),
        ("Created_Time", "Created Time", "datetime", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
    "Products": [
        ("Product_Name", "Product Name", "text", False),
        ("Product_Code", "Product Code", "text", False),
        ("Product_Active", "Product Active", "boolean", False),
        ("Product_Category", "Product Category", "picklist", False),
        ("Manufacturer", "Manufacturer", "picklist", False),
        ("Unit_Price", "Unit Price", "currency", False),
        ("Usage_Unit", "Usage Unit", "picklist", False),
        ("Qty_in_Stock", "Qty in Stock", "double", False),
        ("Taxable", "Taxable", "boolean", False),
        ("Description", "Description", "textarea", False),
        ("Created_Time", "Created Time", "datetime", False),
        ("Modified_Time", "Modified Time", "datetime", False),
    ],
}
# The item rows of the inventory modules and the fields a row has (Zoho's line item fields).
ITEMS_FIELD = {"Invoices": "Invoiced_Items", "Sales_Orders": "Ordered_Items"}
_ROW_FIELDS = {
    "id",
    "_delete",
    "Product_Name",
    "Quantity",
    "List_Price",
    "Discount",
    "Tax",
    "Line_Tax",
    "Description",
    "Price_Book_Name",
    "Sequence_Number",
    "Total",
    "Total_After_Discount",
    "Net_Total",
}
_LOOKUPS = {"Account_Name": "Accounts", "Deal_Name": "Deals", "Product_Name": "Products"}
_CENTS = Decimal("0.01")
_JSON_TYPES = {
    "integer": "integer",
    "bigint": "string",
    "currency": "double",
    "double": "double",
    "boolean": "boolean",
    "lookup": "jsonobject",
    "multiselectpicklist": "jsonarray",
}
_CURRENCY_NAMES = {"USD": "US Dollar", "EUR": "Euro", "GBP": "Pound Sterling", "INR": "Indian Rupee"}
_MANDATORY = {
    "Accounts": "Account_Name",
    "Contacts": "Last_Name",
    "Deals": "Deal_Name",
    # Transactions pushed from billing, upserted by their Billing_Document_Id.
    "Invoices": "Subject",
    "Sales_Orders": "Subject",
    "Products": "Product_Name",
}


# -- OAuth scopes -------------------------------------------------------------------------------
# Like Zoho, the fake knows which scopes each access token was granted (those of the refresh token
# it came from, `FakeZoho.scopes`) and answers a call outside them with 401 OAUTH_SCOPE_MISMATCH,
# which a token refresh does not cure. A scope "ZohoCRM.<a>.<b>.<OP>" covers every call under
# <a>.<b> whose operation is OP, or any operation when OP is ALL (modules.ALL covers
# modules.accounts.READ; settings.ALL covers settings.fields.READ).
ALL_SCOPES = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.org.ALL,ZohoCRM.users.ALL"
_OPERATIONS = {"GET": "READ", "POST": "CREATE", "PUT": "UPDATE", "PATCH": "UPDATE", "DELETE": "DELETE"}
SCOPE_MISMATCH = {
    "code": "OAUTH_SCOPE_MISMATCH",
    "details": {},
    "message": "invalid oauth scope to access this URL",
    "status": "error",
}


def scope_needed(method: str, path: str) -> tuple[list[str], str]:
    """(scope path, operation) a /crm/v8/ call needs, e.g. (["modules", "accounts"], "READ")."""
    parts = path.removeprefix("/crm/v8/").strip("/").split("/")
    operation = _OPERATIONS.get(method, "ALL")
    if parts[0] in ("org", "users"):
        return [parts[0]], operation
    if parts[0] == "settings":
        return ["settings", *parts[1:2]], operation
    return ["modules", parts[0].lower().replace("_", "")], operation


def scope_grants(granted: str, needed: tuple[list[str], str]) -> bool:
    service, *rest = granted.strip().split(".")
    if service != "ZohoCRM" or not rest:
        return False
    *scope_path, operation = rest
    want_path, want_operation = needed
    return want_path[: len(scope_path)] == [p.lower() for p in scope_path] and operation.upper() in (
        "ALL",
        want_operation,
    )


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _refusal(code: str, api_name: str, json_path: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "details": {"api_name": api_name, "json_path": json_path},
        "message": message,
        "status": "error",
    }


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(_CENTS, rounding=ROUND_HALF_UP)


@dataclass
class Fault:
    status: int
    remaining: int
    path_contains: str = ""


class FakeZoho:
    """The fake's state; every method is safe to call from a test while the server runs."""

    def __init__(
        self,
        *,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=DEMO_REFRESH_TOKEN,
        token_lifetime: int = 3600,
    ):
        self.lock = threading.RLock()
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.token_lifetime = token_lifetime
        self.records: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in MODULES}
        self.deleted: dict[str, list[dict[str, Any]]] = {m: [] for m in MODULES}
        self.views: dict[str, list[dict[str, Any]]] = {}
        self.tokens: dict[str, float] = {}
        self.faults: list[Fault] = []
        self.malformed: dict[tuple[str, int], str] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.token_requests = 0
        self.last_headers: dict[str, str] = {}
        self.expire_tokens_after: int | None = None
        self.hooks: list = []  # callables (method, path, query) run before each API answer
        self.currency = "USD"  # the CRM organisation's base currency
        self.scopes = ALL_SCOPES  # granted to the refresh token, comma separated; tests narrow it
        self.token_scopes: dict[str, str] = {}
        self.extra_fields: dict[str, list[tuple[str, str, str, bool]]] = {}  # see add_field
        self.created_fields: dict[str, list[tuple[str, str, str, bool]]] = {}  # POST settings/fields
        self.unique_fields: dict[str, set[str]] = {}  # created with "Do not allow duplicate values"
        self.deal_products: dict[str, list[dict[str, Any]]] = {}  # GET Deals/{id}/Products
        self._ids = itertools.count(4150868000000000001)
        self._snapshots: dict[str, list[str]] = {}
        self._snapshot_ids = itertools.count(1)
        for module in ("Accounts", "Contacts"):
            self.views[module] = []
            self.add_view(module, f"All {module}", system=True, default=True)
            self.add_view(module, f"My {module}", system=True)

    # -- scripting from tests ----------------------------------------------------------------

    def new_id(self) -> str:
        return str(next(self._ids))

    def add_view(
        self,
        module: str,
        name: str,
        *,
        criteria: dict[str, Any] | None = None,
        system: bool = False,
        default: bool = False,
    ) -> str:
        view_id = self.new_id()
        with self.lock:
            self.views[module].append(
                {
                    "id": view_id,
                    "name": name,
                    "display_value": name,
                    "system_defined": system,
                    "default": default,
                    "criteria": criteria or {},
                }
            )
        return view_id

    def add_record(self, module: str, **fields) -> dict[str, Any]:
        record = {"id": self.new_id(), **fields}
        if module == "Contacts":
            record["Full_Name"] = " ".join(p for p in (fields.get("First_Name"), fields.get("Last_Name")) if p)
        record.setdefault("Created_Time", _now_iso())
        record["Modified_Time"] = _now_iso()
        with self.lock:
            self.records[module][record["id"]] = record
        return record

    def add_account(self, name: str, **fields) -> dict[str, Any]:
        return self.add_record("Accounts", Account_Name=name, **fields)

    def add_contact(self, first: str, last: str, *, account: dict | None = None, **fields) -> dict[str, Any]:
        lookup = {"name": account["Account_Name"], "id": account["id"]} if account else None
        return self.add_record("Contacts", First_Name=first, Last_Name=last, Account_Name=lookup, **fields)

    def add_deal(self, account: dict, name: str, **fields) -> dict[str, Any]:
        return self.add_record(
            "Deals",
            Deal_Name=name,
            Account_Name={"name": account["Account_Name"], "id": account["id"]},
            **fields,
        )

    def add_deal_product(self, deal_id: str, name: str, unit_price: float) -> dict[str, Any]:
        """Associate a product with a deal (the deal's Products related list)."""
        product = {"id": self.new_id(), "Product_Name": name, "Unit_Price": unit_price}
        with self.lock:
            self.deal_products.setdefault(deal_id, []).append(product)
        return product

    def _deal_products(self, deal_id: str, query) -> tuple[int, Any]:
        if not query.get("fields"):
            return 400, {
                "code": "REQUIRED_PARAM_MISSING",
                "details": {"param": "fields"},
                "status": "error",
                "message": "One of the expected parameter is missing",
            }
        rows = [self._project(p, query) for p in self.deal_products.get(deal_id, [])]
        return self._answer(rows, query, 1, False, None)

    def move_deal(self, deal_id: str, stage: str) -> dict[str, Any]:
        """A salesperson moves a deal to another stage (Modified_Time moves with it)."""
        return self.update_record("Deals", deal_id, Stage=stage)

    def update_record(self, module: str, record_id: str, **fields) -> dict[str, Any]:
        with self.lock:
            record = self.records[module][record_id]
            record.update(fields)
            if module == "Contacts":
                record["Full_Name"] = " ".join(p for p in (record.get("First_Name"), record.get("Last_Name")) if p)
            record["Modified_Time"] = _now_iso()
            return record

    def delete_record(self, module: str, record_id: str) -> None:
        with self.lock:
            record = self.records[module].pop(record_id)
            name = {"Accounts": record.get("Account_Name"), "Contacts": record.get("Full_Name", "")}.get(
                module, record.get("Subject") or record.get("Product_Name") or record.get("Deal_Name", "")
            )
            self.deleted[module].append(
                {
                    "id": record_id,
                    "display_name": name,
                    "type": "recycle",
                    "deleted_time": _now_iso(),
                    "deleted_by": {"name": "Fake Admin"},
                }
            )

    def add_field(self, module: str, api_name: str, label: str, data_type: str) -> None:
        """A custom field staff added in the CRM; settings/fields lists it after the standard ones."""
        with self.lock:
            self.extra_fields.setdefault(module, []).append((api_name, label, data_type, True))

    def fail_next(self, count: int, *, status: int = 429, path_contains: str = "") -> None:
        """The next `count` API requests (matching `path_contains`) answer `status`."""
        with self.lock:
            self.faults.append(Fault(status=status, remaining=count, path_contains=path_contains))

    def malform_page(self, module: str, page: int, kind: str = "truncated") -> None:
        """Page `page` (1-based) of `module` answers broken JSON ("truncated") or no info ("no_info")."""
        with self.lock:
            self.malformed[(module, page)] = kind

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def api_request_count(self) -> int:
        return len(self.requests)

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()
            self.token_requests = 0

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple[int, Any]:
        if path == "/oauth/v2/token" and method == "POST":
            return self._token(parse_qs(body.decode()))
        if not path.startswith("/crm/v8/"):
            return 404, {
                "code": "INVALID_URL_PATTERN",
                "message": "Please check if the URL is correct",
                "status": "error",
                "details": {},
            }
        with self.lock:
            self.requests.append((method, path, query))
            self.last_headers = dict(headers.items())
            for fault in self.faults:
                if fault.remaining > 0 and fault.path_contains in path:
                    fault.remaining -= 1
                    code = "TOO_MANY_REQUESTS" if fault.status == 429 else "INTERNAL_ERROR"
                    return fault.status, {"code": code, "message": "fault", "status": "error", "details": {}}
            if self.expire_tokens_after is not None:
                self.expire_tokens_after -= 1
                if self.expire_tokens_after < 0:
                    self.expire_tokens_after = None
                    self.tokens.clear()
            auth = headers.get("Authorization", "")
            token = auth.removeprefix("Zoho-oauthtoken ")
            if not auth.startswith("Zoho-oauthtoken ") or self.tokens.get(token, 0) < time.monotonic():
                return 401, {
                    "code": "INVALID_TOKEN",
                    "details": {},
                    "message": "invalid oauth token",
                    "status": "error",
                }
            needed = scope_needed(method, path)
            if not any(scope_grants(g, needed) for g in self.token_scopes.get(token, ALL_SCOPES).split(",")):
                return 401, dict(SCOPE_MISMATCH)
        for hook in list(self.hooks):
            hook(method, path, query)
        parts = path.removeprefix("/crm/v8/").strip("/").split("/")
        with self.lock:
            if parts == ["org"]:
                return 200, {
                    "org": [
                        {
                            "id": "4150868000000001",
                            "company_name": "Fake CRM Org",
                            "domain_name": "org0000001",
                            # As Zoho: `currency` is the name, `iso_code` the code.
                            "currency": _CURRENCY_NAMES.get(self.currency, self.currency),
                            "currency_symbol": "$",
                            "currency_locale": "en_US",
                            "iso_code": self.currency,
                            "country_code": "US",
                            "time_zone": "UTC",
                            "mc_status": False,
                        }
                    ]
                }
            if parts[0] == "settings" and parts[1:] == ["custom_views"]:
                return self._custom_views(query)
            if parts == ["settings", "fields"] and method == "POST":
                return self._create_fields(query, json.loads(body or b"{}"))
            if parts[0] == "settings" and parts[1:] == ["fields"]:
                return self._fields(query)
            module = parts[0]
            if module not in MODULES:
                return 400, {
                    "code": "INVALID_MODULE",
                    "message": "the module name given seems to be invalid",
                    "status": "error",
                    "details": {},
                }
            if len(parts) == 1 and method == "GET":
                return self._list(module, query, headers)
            if len(parts) == 1 and method == "PUT":
                return self._update_records(module, json.loads(body or b"{}"))
            if parts[1:] == ["deleted"]:
                return self._deleted(module, query, headers)
            if parts[1:] == ["search"]:
                return self._search(module, query)
            if parts[1:] == ["upsert"] and method == "POST":
                return self._upsert(module, json.loads(body or b"{}"))
            if module == "Deals" and len(parts) == 3 and parts[2] == "Products":
                return self._deal_products(parts[1], query)
            if len(parts) == 3 and parts[2] == "Deals":
                deals = [
                    d for d in self.records["Deals"].values() if (d.get("Account_Name") or {}).get("id") == parts[1]
                ]
                return self._answer(deals, query, 1, False, None)
            if len(parts) == 2:
                record = self.records[module].get(parts[1])
                if record is None:
                    return 204, None
                return 200, {"data": [self._project(record, query)]}
        return 400, {"code": "INVALID_REQUEST", "status": "error", "message": "unsupported", "details": {}}

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        def one(name):
            return (form.get(name) or [""])[0]

        with self.lock:
            self.token_requests += 1
            if (
                one("grant_type") != "refresh_token"
                or one("client_id") != self.client_id
                or one("client_secret") != self.client_secret
            ):
                return 200, {"error": "invalid_client"}
            if one("refresh_token") != self.refresh_token:
                return 200, {"error": "invalid_code"}
            token = "1000." + secrets.token_hex(16)
            self.tokens[token] = time.monotonic() + self.token_lifetime
            self.token_scopes[token] = self.scopes
        return 200, {
            "access_token": token,
            "api_domain": "",
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def _custom_views(self, query):
        views = self.views.get(query.get("module", ""))
        if views is None:
            return 400, {
                "code": "INVALID_MODULE",
                "status": "error",
                "message": "invalid module",
                "details": {},
            }
        shown = [{k: v for k, v in view.items() if k != "criteria"} for view in views]
        return 200, {
            "custom_views": shown,
            "info": {"per_page": 200, "count": len(shown), "page": 1, "more_records": False},
        }

    def _fields(self, query):
        defs = _FIELD_DEFS.get(query.get("module", ""))
        defs = None if defs is None else defs + self.created_fields.get(query.get("module", ""), [])
        if defs is None:
            return 400, {
                "code": "INVALID_MODULE",
                "status": "error",
                "message": "invalid module",
                "details": {},
            }
        return 200, {
            "fields": [
                {
                    "id": str(4150868000000100000 + n),
                    "api_name": a,
                    "field_label": label,
                    "display_label": label,
                    "data_type": t,
                    "json_type": _JSON_TYPES.get(t, "string"),
                    "custom_field": c,
                    "read_only": a in ("Created_Time", "Modified_Time", "Full_Name", "Sub_Total", "Grand_Total"),
                    "visible": True,
                    # As Zoho's field metadata: {"casesensitive": "false"} once "Do not allow duplicate values".
                    "unique": {"casesensitive": "false"} if a in self.unique_fields.get(query["module"], ()) else {},
                }
                for n, (a, label, t, c) in enumerate([*defs, *self.extra_fields.get(query["module"], [])])
            ]
        }

    @staticmethod
    def _project(record: dict, query: dict) -> dict:
        fields = [f for f in query.get("fields", "").split(",") if f]
        if not fields:
            return dict(record)
        out = {"id": record["id"]}
        for field in fields:
            out[field] = record.get(field)
        return out

    @staticmethod
    def _since(headers) -> str | None:
        value = headers.get("If-Modified-Since")
        if not value:
            return None
        return parsedate_to_datetime(value).astimezone(UTC).replace(microsecond=0).isoformat()

    def _list(self, module, query, headers):
        if not query.get("fields"):
            return 400, {
                "code": "REQUIRED_PARAM_MISSING",
                "details": {"param": "fields"},
                "message": "One of the expected parameter is missing",
                "status": "error",
            }
        if query.get("ids"):
            # Get Records with `ids` (at most 100): those records, in that order, one page.
            wanted = query["ids"].split(",")
            if len(wanted) > 100:
                return 400, _refusal("LIMIT_EXCEEDED", "ids", "$.ids", "at most 100 ids")
            rows = [self._project(self.records[module][i], query) for i in wanted if i in self.records[module]]
            return self._answer(rows, query, 1, False, None)
        per_page = min(int(query.get("per_page", 200)), 200)
        token = query.get("page_token")
        if token:
            snapshot_id, _, offset_text = token.partition(":")
            ids = self._snapshots.get(snapshot_id)
            if ids is None:
                return 400, {
                    "code": "INVALID_DATA",
                    "details": {"param": "page_token"},
                    "message": "page token expired",
                    "status": "error",
                }
            offset = int(offset_text)
        else:
            page = int(query.get("page", 1))
            if page > 10:
                return 400, {
                    "code": "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                    "details": {},
                    "message": "use page_token to fetch more than 2000 records",
                    "status": "error",
                }
            since = self._since(headers)
            criteria = {}
            if query.get("cvid"):
                view = next((v for v in self.views.get(module, []) if v["id"] == query["cvid"]), None)
                if view is None:
                    return 400, {
                        "code": "INVALID_DATA",
                        "details": {"param": "cvid"},
                        "message": "invalid cvid",
                        "status": "error",
                    }
                criteria = view["criteria"]
            ids = [
                r["id"]
                for r in self.records[module].values()
                if (since is None or r["Modified_Time"] >= since) and all(r.get(k) == v for k, v in criteria.items())
            ]
            snapshot_id = str(next(self._snapshot_ids))
            self._snapshots[snapshot_id] = ids
            offset = (page - 1) * per_page
        page_number = offset // per_page + 1
        chunk = ids[offset : offset + per_page]
        if not chunk:
            return 204, None
        rows = [self._project(self.records[module][i], query) for i in chunk if i in self.records[module]]
        more = offset + per_page < len(ids)
        next_token = f"{snapshot_id}:{offset + per_page}" if more else None
        kind = self.malformed.get((module, page_number))
        if kind == "truncated":
            text = json.dumps({"data": rows, "info": {}})
            return 200, text[: len(text) // 2]
        if kind == "no_info":
            return 200, {"data": rows}
        return self._answer(rows, query, page_number, more, next_token)

    @staticmethod
    def _answer(rows, query, page, more, next_token):
        if not rows:
            return 204, None
        info = {
            "per_page": int(query.get("per_page", 200)),
            "count": len(rows),
            "page": page,
            "more_records": more,
            "sort_by": "id",
            "sort_order": "asc",
        }
        if next_token:
            info["next_page_token"] = next_token
            info["page_token_expiry"] = _now_iso()
        return 200, {"data": rows, "info": info}

    def _deleted(self, module, query, headers):
        since = self._since(headers)
        rows = [d for d in self.deleted[module] if since is None or d["deleted_time"] >= since]
        page = int(query.get("page", 1))
        per_page = min(int(query.get("per_page", 200)), 200)
        chunk = rows[(page - 1) * per_page : page * per_page]
        return self._answer(chunk, query, page, page * per_page < len(rows), None)

    def _search(self, module, query):
        word = query.get("word", "").lower()
        if len(word) < 2:
            return 400, {
                "code": "INVALID_QUERY",
                "details": {},
                "message": "word is too short",
                "status": "error",
            }
        keys = ("Account_Name", "Full_Name", "Email")
        found = [
            self._project(r, query)
            for r in self.records[module].values()
            if any(word in str(r.get(k) or "").lower() for k in keys)
        ][:200]
        return self._answer(found, query, 1, False, None)

    def _upsert(self, module, body):
        data = body.get("data") or []
        if len(data) > 100:
            return 400, {
                "code": "LIMIT_EXCEEDED",
                "details": {"limit": 100},
                "message": "Only 100 records can be upserted at a time",
                "status": "error",
            }
        check = body.get("duplicate_check_fields") or []
        results = []
        for index, row in enumerate(data):
            mandatory = _MANDATORY[module]
            existing = self.records[module].get(str(row.get("id"))) if row.get("id") else None
            refused = self._unknown_field(module, row, index)
            if refused:
                results.append(refused)
                continue
            duplicate_field = None
            if existing is None:
                for field in check:
                    if row.get(field) in (None, ""):
                        continue
                    matches = [r for r in self.records[module].values() if r.get(field) == row.get(field)]
                    if len(matches) > 1:
                        refused = _refusal("DUPLICATE_DATA", field, f"$.data[{index}].{field}", "duplicate data")
                        break
                    if matches:
                        existing, duplicate_field = matches[0], field
                        break
            if existing is None and not refused and not row.get(mandatory):
                refused = _refusal(
                    "MANDATORY_NOT_FOUND", mandatory, f"$.data[{index}].{mandatory}", "required field not found"
                )
            email = row.get("Email")
            if not refused and email and "@" not in email:
                refused = _refusal("INVALID_DATA", "Email", f"$.data[{index}].Email", "invalid data")
            fields = {k: v for k, v in row.items() if k != "id"}
            if not refused and module in ITEMS_FIELD:
                refused, fields = self._inventory_fields(module, fields, existing, index)
            if refused:
                results.append(refused)
                continue
            if existing is None:
                record = self.add_record(module, **fields)
                action, message = "insert", "record added"
            else:
                record = self.update_record(module, existing["id"], **fields)
                action, message = "update", "record updated"
            results.append(
                {
                    "code": "SUCCESS",
                    "duplicate_field": duplicate_field,
                    "action": action,
                    "details": {"Modified_Time": record["Modified_Time"], "id": record["id"]},
                    "message": message,
                    "status": "success",
                }
            )
        return 200, {"data": results}

    def _known_fields(self, module: str) -> set[str]:
        defs = _FIELD_DEFS.get(module, []) + self.created_fields.get(module, []) + self.extra_fields.get(module, [])
        return {d[0] for d in defs} | {"id", "Owner"}

    def _unknown_field(self, module: str, row: dict, index: int) -> dict | None:
        """Zoho answers a field the module does not have with INVALID_DATA naming it."""
        known = self._known_fields(module)
        for name in row:
            if name not in known:
                return _refusal("INVALID_DATA", name, f"$.data[{index}].{name}", "invalid data")
        return None

    def _lookup(self, name: str, value: Any, path: str) -> tuple[dict | None, Any]:
        """A lookup needs {"id"} of an existing record; stored as Zoho shows it, {"name", "id"}."""
        if not isinstance(value, dict) or not value.get("id"):
            return _refusal(
                "MANDATORY_NOT_FOUND" if value in (None, "", {}) else "INVALID_DATA",
                name,
                path,
                "required field not found" if value in (None, "", {}) else "invalid data",
            ), None
        target = self.records[_LOOKUPS[name]].get(str(value["id"]))
        if target is None:
            return _refusal("INVALID_DATA", name, path, "the id given seems to be invalid"), None
        label = {"Accounts": "Account_Name", "Deals": "Deal_Name", "Products": "Product_Name"}[_LOOKUPS[name]]
        return None, {"name": target.get(label), "id": target["id"]}

    def _inventory_fields(self, module: str, fields: dict, existing: dict | None, index: int):
        """An Invoice or Sales Order: lookups resolved, item rows merged (Zoho's subform rule), totals computed."""
        fields = dict(fields)
        for name in ("Account_Name", "Deal_Name"):
            if fields.get(name) is not None:
                refused, fields[name] = self._lookup(name, fields[name], f"$.data[{index}].{name}")
                if refused:
                    return refused, fields
        items = ITEMS_FIELD[module]
        rows = [dict(r) for r in (existing or {}).get(items) or []]
        sent = fields.pop(items, None)
        if sent is not None:
            if not isinstance(sent, list):
                return _refusal("INVALID_DATA", items, f"$.data[{index}].{items}", "invalid data"), fields
            for n, row in enumerate(sent):
                path = f"$.data[{index}].{items}[{n}]"
                unknown = next((k for k in row if k not in _ROW_FIELDS), None)
                if unknown:
                    return _refusal("INVALID_DATA", unknown, f"{path}.{unknown}", "invalid data"), fields
                if row.get("id"):
                    at = next((i for i, r in enumerate(rows) if r["id"] == str(row["id"])), None)
                    if at is None:
                        return _refusal("INVALID_DATA", "id", f"{path}.id", "the id given seems to be invalid"), fields
                    if "_delete" in row:
                        rows.pop(at)
                        continue
                    merged = {**rows[at], **{k: v for k, v in row.items() if k != "id"}}
                else:
                    merged = {**row, "id": self.new_id()}
                refused, merged["Product_Name"] = self._lookup(
                    "Product_Name", merged.get("Product_Name"), f"{path}.Product_Name"
                )
                if refused:
                    return refused, fields
                if existing is None or not row.get("id"):
                    rows.append(merged)
                else:
                    rows[at] = merged
        if not rows:
            return _refusal(
                "MANDATORY_NOT_FOUND", items, f"$.data[{index}].{items}", "required field not found"
            ), fields
        sub_total = tax = grand_total = Decimal("0.00")
        for number, row in enumerate(rows, start=1):
            total = (Decimal(str(row.get("Quantity") or 0)) * _money(row.get("List_Price"))).quantize(
                _CENTS, rounding=ROUND_HALF_UP
            )
            after_discount = total - _money(row.get("Discount"))
            net = after_discount + _money(row.get("Tax"))
            row.update(
                Sequence_Number=number,
                Total=float(total),
                Total_After_Discount=float(after_discount),
                Net_Total=float(net),
            )
            sub_total += after_discount
            tax += _money(row.get("Tax"))
            grand_total += net
        adjustment = _money(fields.get("Adjustment", (existing or {}).get("Adjustment")))
        fields.update(
            {
                items: rows,
                "Sub_Total": float(sub_total),
                "Tax": float(tax),
                "Grand_Total": float(grand_total + adjustment),
            }
        )
        return None, fields

    # -- Create Custom Fields (POST /crm/v8/settings/fields?module=): receivables fields -----------

    def _create_fields(self, query, body):
        """Zoho derives the api_name from the label (spaces → underscores); a label taken is refused."""
        module = query.get("module", "")
        if module not in _FIELD_DEFS:
            return 400, {"code": "INVALID_MODULE", "status": "error", "message": "invalid module", "details": {}}
        results = []
        for field in body.get("fields") or []:
            label = str(field.get("field_label") or "")
            api_name = label.replace(" ", "_")
            taken = {f[0] for f in _FIELD_DEFS[module] + self.created_fields.get(module, [])}
            if not label or not field.get("data_type") or api_name in taken:
                results.append(
                    {
                        "code": "DUPLICATE_DATA" if label else "MANDATORY_NOT_FOUND",
                        "status": "error",
                        "message": "field label already exists" if label else "field_label missing",
                        "details": {"api_name": "field_label"},
                    }
                )
                continue
            self.created_fields.setdefault(module, []).append((api_name, label, field["data_type"], True))
            if field.get("unique"):
                self.unique_fields.setdefault(module, set()).add(api_name)
            results.append(
                {"code": "SUCCESS", "status": "success", "message": "field created", "details": {"id": self.new_id()}}
            )
        return 201, {"fields": results}

    # -- Update Records (PUT /crm/v8/{module}): receivables pushed to Accounts ---------------------

    def _update_records(self, module, body):
        """Zoho's Update Records: up to 100 rows, each with the id of an existing record."""
        data = body.get("data") or []
        if len(data) > 100:
            return 400, {
                "code": "LIMIT_EXCEEDED",
                "details": {"limit": 100},
                "message": "Only 100 records can be updated at a time",
                "status": "error",
            }
        results = []
        for row in data:
            record_id = str(row.get("id") or "")
            refused = self._unknown_field(module, row, len(results))
            if refused:
                results.append(refused)
                continue
            if record_id not in self.records[module]:
                results.append(
                    {
                        "code": "INVALID_DATA",
                        "details": {"api_name": "id", "json_path": "$.data[0].id"},
                        "message": "the id given seems to be invalid",
                        "status": "error",
                    }
                )
                continue
            record = self.update_record(module, record_id, **{k: v for k, v in row.items() if k != "id"})
            results.append(
                {
                    "code": "SUCCESS",
                    "details": {"Modified_Time": record["Modified_Time"], "id": record_id},
                    "message": "record updated",
                    "status": "success",
                }
            )
        return 200, {"data": results}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as with the real API
    # Headers and body leave in one write and without Nagle's delay: otherwise every response
    # waits ~40 ms for the client's delayed ACK and the fake, not the sync, sets the pace.
    disable_nagle_algorithm = True
    fake: FakeZoho

    def _serve(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload = self.fake.handle(method, url.path, query, self.headers, body)
        raw = b"" if payload is None else (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        self.send_response_only(status)
        self.send_header("Date", self.date_time_string())
        if raw:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self._headers_buffer.append(b"\r\n")
        self.wfile.write(b"".join(self._headers_buffer) + raw)
        self._headers_buffer = []

    def do_GET(self):  # noqa: N802
        self._serve("GET")

    def do_POST(self):  # noqa: N802
        self._serve("POST")

    def do_PUT(self):  # noqa: N802
        self._serve("PUT")

    def log_message(self, format, *args):  # noqa: A002
        pass


class FakeZohoServer:
    """The HTTP server around a FakeZoho, in a background thread."""

    def __init__(self, fake: FakeZoho | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.fake = fake or FakeZoho()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeZohoServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def load_demo_data(fake: FakeZoho, *, accounts: int = 24, seed: int = 7) -> None:
    """A small CRM to try the sync with: accounts with contacts and deals, orphan contacts, views."""
    rng = random.Random(seed)
    names = [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Stark",
        "Wayne",
        "Wonka",
        "Hooli",
        "Vandelay",
        "Soylent",
        "Tyrell",
        "Cyberdyne",
        "Aperture",
        "Gringotts",
        "Monarch",
        "Pied Piper",
        "Dunder Mifflin",
        "Nakatomi",
        "Oscorp",
        "Massive Dynamic",
        "Weyland",
        "Zorg",
        "Virtucon",
        "Ollivanders",
    ]
    tiers = ["Gold", "Silver", "Bronze"]
    fake.add_view("Accounts", "Enterprise accounts", criteria={"Industry": "Enterprise"})
    fake.add_view("Contacts", "Decision makers", criteria={"Title": "CEO"})
    for i in range(accounts):
        name = f"{names[i % len(names)]} {'Ltd' if i % 2 else 'Inc'}"
        account = fake.add_account(
            name,
            Phone=f"+1 555 01{i:02d}",
            Website=f"https://{names[i % len(names)].lower().replace(' ', '')}.example",
            Billing_Street=f"{i + 1} Main Street",
            Billing_City="Springfield",
            Billing_Code=f"{10000 + i}",
            Billing_Country="USA",
            Industry="Enterprise" if i % 3 == 0 else "SMB",
            Payment_Terms=rng.choice([15, 30, 45]),
            Customer_Tier=rng.choice(tiers),
            Email=f"accounts@{names[i % len(names)].lower().replace(' ', '')}.example",
        )
        for j in range(2):
            first = rng.choice(["Ana", "Ben", "Chen", "Dara", "Eve", "Femi", "Gus", "Hana"])
            fake.add_contact(
                first,
                f"{name.split()[0]}son{j}",
                account=account,
                Email=f"{first.lower()}.{i}.{j}@example.com",
                Phone=f"+1 555 02{i:02d}{j}",
                Title="CEO" if j == 0 else "Accountant",
            )
        fake.add_deal(
            account, f"{name} renewal", Stage="Negotiation", Amount=1200.0 + i * 10, Closing_Date="2026-12-31"
        )
        fake.add_deal(account, f"{name} upsell", Stage="Qualification", Amount=500.0, Closing_Date="2027-01-31")
    for k in range(4):
        fake.add_contact("Indie", f"Freelancer{k}", Email=f"indie{k}@example.com", Phone=f"+1 555 09{k:02d}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Fake Zoho CRM (API v8) for tests and the offline demo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--demo", action="store_true", help="load demo accounts, contacts, deals and views")
    parser.add_argument("--accounts", type=int, default=0, help="extra generated accounts (bench)")
    parser.add_argument("--contacts", type=int, default=0, help="generated contacts, orphans included")
    parser.add_argument("--orphans", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeZoho()
    if args.demo:
        load_demo_data(fake)
    if args.accounts:
        generate(fake, accounts=args.accounts, contacts=args.contacts, orphans=args.orphans)
    server = FakeZohoServer(fake, host=args.host, port=args.port)
    print(
        f"Fake Zoho CRM on {server.url} (client id {fake.client_id}, client secret {fake.client_secret}, "
        f"refresh token {fake.refresh_token})",
        flush=True,
    )
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


def generate(
    fake: FakeZoho,
    *,
    accounts: int,
    contacts: int = 0,
    orphans: int = 0,
    duplicate_every: int = 50,
    long_every: int = 97,
) -> None:
    """Bulk data: `contacts` contacts of which `orphans` have no account, the rest spread over the
    accounts; every 50th account repeats the previous name, every 97th is a very long unicode name."""
    made = []
    for i in range(accounts):
        if i % duplicate_every == 0 and i:
            name = f"Company {i - 1:06d}"  # same name as the previous one
        elif i % long_every == 0:
            name = ("Ünïcødé Größe Ωmega 株式会社 " * 12)[:190] + f" {i}"
        else:
            name = f"Company {i:06d}"
        made.append(
            fake.add_account(
                name,
                Phone=f"+1 555 {i:07d}",
                Billing_City="Zürich",
                Payment_Terms=30,
                Website=f"https://c{i}.example",
                Email=f"ap{i}@example.com",
            )
        )
    for j in range(contacts - orphans):
        account = made[j % len(made)] if made else None
        fake.add_contact(
            f"Frédéric{j}",
            f"Müller{j}",
            account=account,
            Email=f"c{j}@example.com",
            Title="CEO" if j % 5 == 0 else "Accountant",
        )
    for k in range(orphans):
        fake.add_contact("Orphan", f"Person{k}", Email=f"orphan{k}@example.com")


if __name__ == "__main__":
    main()
