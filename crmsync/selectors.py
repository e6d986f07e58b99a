"""Reads for the CRM pages: sync history, the running sync, and what the CRM offers (views, fields,
search results, deals). CRM reads go through crmsync.zoho; nothing here writes."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import QuerySet

from billing.models import ContactPerson, Customer

from .clients import client_for
from .models import CrmConnection, SyncRun
from .zoho import CrmError

# -- where billing's objects stand in the CRM ---------------------------------------------------
# The only places the transaction push reads a customer's or a document's CRM link: the link's
# storage can change (a table of crmsync's own) without touching the push.


def account_crm_id(customer: Customer) -> str | None:
    """The CRM account id the customer is linked to, None when it is not (or no longer) linked."""
    if customer.crm_account_id and not customer.crm_unlinked_reason:
        return customer.crm_account_id
    return None


def deal_crm_id(document) -> str:
    """The CRM deal (potential) an invoice or sales order is linked to, "" when none."""
    return document.crm_deal_id or ""


def of_linked_accounts(documents: QuerySet) -> QuerySet:
    """Invoices or sales orders (a queryset) narrowed to those of customers linked to a CRM account."""
    return documents.filter(customer__crm_account_id__isnull=False, customer__crm_unlinked_reason="")


def customers_with_transactions(*, customer_ids: Iterable[int]) -> set[int]:
    """Ids among `customer_ids` that have any ledger row (invoice, payment, credit note…).

    Generic on purpose: every reverse relation on Customer counts except contact persons and
    branches, so a ledger model added later protects customers without a change here.
    One query per related model, whatever the number of customers.
    """
    ids = set(customer_ids)
    found: set[int] = set()
    if not ids:
        return found
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in (ContactPerson, Customer) or model._meta.app_label == "crmsync":
            continue
        name = relation.field.name
        found.update(model._base_manager.filter(**{f"{name}__in": ids - found}).values_list(name, flat=True).distinct())
        if found >= ids:
            break
    return found


def customers_with_branches(*, customer_ids: Iterable[int]) -> set[int]:
    """Ids among `customer_ids` that are the parent of another customer (deleting them is refused)."""
    return set(Customer.objects.filter(parent_id__in=list(customer_ids)).values_list("parent_id", flat=True))


def sync_history() -> QuerySet[SyncRun]:
    """Runs, newest first, for the history page."""
    return SyncRun.objects.order_by("-started_at", "-pk")


def running_sync() -> SyncRun | None:
    """The sync in progress, if any, for the progress panel."""
    return SyncRun.objects.filter(status=SyncRun.Status.RUNNING).order_by("-started_at").first()


def crm_views(*, connection: CrmConnection) -> dict[str, list[dict]]:
    """The CRM's custom views (predefined and user created) of Accounts and Contacts.

    Raises CrmError when the CRM cannot be read.
    """
    with client_for(connection) as client:
        return {module: client.custom_views(module) for module in ("Accounts", "Contacts")}


def stored_views(*, connection: CrmConnection) -> dict[str, list[dict]]:
    """The views in use, as crm_views shapes them, for when the CRM's view list cannot be read."""
    return {
        module: [{"id": view_id, "name": name or view_id, "default": False}] if view_id else []
        for module, view_id, name in (
            ("Accounts", connection.account_view_id, connection.account_view_name),
            ("Contacts", connection.contact_view_id, connection.contact_view_name),
        )
    }


def crm_fields(*, connection: CrmConnection) -> dict[str, list[dict]]:
    """The field lists of Accounts and Contacts, for mapping. Raises CrmError."""
    with client_for(connection) as client:
        return {module: client.fields(module) for module in ("Accounts", "Contacts")}


def crm_search(*, connection: CrmConnection, word: str) -> list[dict]:
    """Accounts and contacts whose name or email contains `word`, not yet imported first.

    Each row: module, id, name, email, and the customer already linked to it, if any.
    Raises CrmError.
    """
    rows = []
    with client_for(connection) as client:
        accounts = client.search("Accounts", word, fields=["Account_Name", "Email", "Phone"])
        contacts = client.search("Contacts", word, fields=["Full_Name", "Email", "Phone", "Account_Name"])
    linked_accounts = dict(
        Customer.objects.filter(crm_account_id__in=[str(r["id"]) for r in accounts]).values_list("crm_account_id", "pk")
    )
    linked_contacts = dict(
        Customer.objects.filter(crm_contact_id__in=[str(r["id"]) for r in contacts]).values_list("crm_contact_id", "pk")
    )
    for record in accounts:
        rows.append(
            {
                "module": "Accounts",
                "id": str(record["id"]),
                "name": record.get("Account_Name") or "",
                "email": record.get("Email") or "",
                "customer_id": linked_accounts.get(str(record["id"])),
            }
        )
    for record in contacts:
        account = record.get("Account_Name") or {}
        rows.append(
            {
                "module": "Contacts",
                "id": str(record["id"]),
                "name": record.get("Full_Name") or "",
                "email": record.get("Email") or "",
                "account": account.get("name", ""),
                "customer_id": linked_contacts.get(str(record["id"])),
            }
        )
    return sorted(rows, key=lambda r: (r["customer_id"] is not None, r["name"].lower()))


def _amount(value) -> Decimal | None:
    """A CRM currency value (a JSON number) as money, 2 places."""
    return None if value is None or value == "" else Decimal(str(value)).quantize(Decimal("0.01"))


def _quantity(value) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value)).normalize()


def _name(lookup) -> str:
    """The name Zoho shows with a lookup ({"name", "id"})."""
    return str(lookup.get("name") or "") if isinstance(lookup, dict) else ""


def demo_crm_contents(*, connection: CrmConnection) -> dict[str, list[dict]]:
    """What the CRM holds, for the offline demo's "Demo Zoho CRM" page: accounts with their
    receivables fields, invoices and sales orders with their item rows (the first 200 of each),
    read through the API like any CRM. Raises CrmError."""
    from crmsync.services.receivables import receivable_fields

    figures = receivable_fields(connection)
    documents = {
        "invoices": ("Invoices", "Invoiced_Items", ["Invoice_Date", "Due_Date", "Balance_Due"]),
        "sales_orders": ("Sales_Orders", "Ordered_Items", ["Due_Date"]),
    }
    contents: dict[str, list[dict]] = {}
    with client_for(connection) as client:
        page = next(client.iter_pages("Accounts", fields=["Account_Name", *figures.values()]), None)
        accounts = [
            {
                "id": str(record["id"]),
                "name": record.get("Account_Name") or "",
                **{figure: _amount(record.get(api_name)) for figure, api_name in figures.items()},
            }
            for record in (page.records if page else [])
        ]
        # Accounts with money on them first, then by name.
        accounts.sort(key=lambda a: (not any(a[f] for f in figures), a["name"].lower()))
        contents["accounts"] = accounts
        for key, (module, items, extra) in documents.items():
            fields = ["Subject", "Account_Name", "Status", "Grand_Total", "Billing_Document_Id", items, *extra]
            page = next(client.iter_pages(module, fields=fields), None)
            contents[key] = [
                {
                    "id": str(record["id"]),
                    "subject": record.get("Subject") or "",
                    "account": _name(record.get("Account_Name")),
                    "status": record.get("Status") or "",
                    "grand_total": _amount(record.get("Grand_Total")),
                    "balance_due": _amount(record.get("Balance_Due")),
                    "date": record.get("Invoice_Date") or "",
                    "due_date": record.get("Due_Date") or "",
                    "items": [
                        {
                            "product": _name(row.get("Product_Name")),
                            "description": row.get("Description") or "",
                            "quantity": _quantity(row.get("Quantity")),
                            "list_price": _amount(row.get("List_Price")),
                            "discount": _amount(row.get("Discount")),
                            "tax": _amount(row.get("Tax")),
                            "total": _amount(row.get("Net_Total")),
                        }
                        for row in (record.get(items) or [])
                        if isinstance(row, dict)
                    ],
                }
                for record in (page.records if page else [])
            ]
    return contents


def crm_deals(*, connection: CrmConnection, customer: Customer) -> list[dict]:
    """The potentials (Deals) of the customer's CRM account; empty when it has no account.

    Raises CrmError.
    """
    if not customer.crm_account_id:
        return []
    with client_for(connection) as client:
        deals = client.deals_of_account(customer.crm_account_id)
    return [
        {
            "id": str(d["id"]),
            "name": d.get("Deal_Name") or "",
            "stage": d.get("Stage") or "",
            "amount": Decimal(str(d["Amount"])) if d.get("Amount") is not None else None,
            "closing_on": d.get("Closing_Date") or "",
        }
        for d in deals
    ]


__all__ = [
    "CrmError",
    "account_crm_id",
    "deal_crm_id",
    "demo_crm_contents",
    "of_linked_accounts",
    "crm_deals",
    "crm_fields",
    "crm_search",
    "crm_views",
    "customers_with_branches",
    "customers_with_transactions",
    "running_sync",
    "stored_views",
    "sync_history",
]
