"""Reads for the CRM pages and the sync: the links between billing's objects and CRM records, sync
history, the running sync, and what the CRM offers (views, fields, search results, deals). CRM reads
go through crmsync.zoho; nothing here writes."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Exists, Model, OuterRef, QuerySet, Subquery

from billing.models import Customer, Invoice, SalesOrder

from .clients import client_for
from .models import CrmConnection, CrmLink, SyncRun
from .zoho import CrmError

ACCOUNTS, CONTACTS, DEALS = CrmLink.Module.ACCOUNTS, CrmLink.Module.CONTACTS, CrmLink.Module.DEALS
# The CrmLink column of each kind of document.
DOCUMENT_FIELD = {Invoice: "invoice", SalesOrder: "sales_order"}


# -- where billing's objects stand in the CRM ---------------------------------------------------
# The only places the transaction push reads a customer's or a document's CRM link.


def of_linked_accounts(documents: QuerySet) -> QuerySet:
    """Invoices or sales orders (a queryset) narrowed to those of customers linked to a CRM account,
    each carrying its account's and its deal's CRM ids (read by `account_crm_id`, `deal_crm_id`)."""
    model = documents.model
    accounts = CrmLink.objects.active().of_customers(ACCOUNTS).filter(customer_id=OuterRef("customer_id"))
    deals = CrmLink.objects.active().filter(module=DEALS, **{document_field(model): OuterRef("pk")})
    return documents.filter(Exists(accounts)).annotate(
        linked_account_crm_id=Subquery(accounts.values("crm_id")[:1]),
        linked_deal_crm_id=Subquery(deals.values("crm_id")[:1]),
    )


def account_crm_id(customer_or_document: Model) -> str | None:
    """The CRM account id a customer (or a document's customer) is linked to, None when it is not
    (or no longer) linked. Documents from `of_linked_accounts` carry it: no query."""
    if hasattr(customer_or_document, "linked_account_crm_id"):
        return customer_or_document.linked_account_crm_id
    customer_id = customer_or_document.pk if isinstance(customer_or_document, Customer) else (
        customer_or_document.customer_id
    )
    links = CrmLink.objects.active().of_customers(ACCOUNTS).filter(customer_id=customer_id)
    return links.values_list("crm_id", flat=True).first()


def deal_crm_id(document: Model) -> str:
    """The CRM deal (potential) an invoice or sales order is linked to, "" when none. Documents from
    `of_linked_accounts` carry it: no query."""
    if hasattr(document, "linked_deal_crm_id"):
        return document.linked_deal_crm_id or ""
    link = deal_link(document)
    return link.crm_id if link is not None else ""


def document_field(document_or_model) -> str:
    """"invoice" or "sales_order": the link column of this document (a retainer invoice is an invoice)."""
    return DOCUMENT_FIELD[document_or_model._meta.concrete_model]


def linked_customer_ids(*, module: str, crm_ids: Iterable[str]) -> dict[str, int]:
    """CRM id → customer id, for the records of `crm_ids` linked to a customer. One query."""
    return dict(
        CrmLink.objects.active()
        .of_customers(module)
        .filter(crm_id__in=list(crm_ids))
        .values_list("crm_id", "customer_id")
    )


def deal_link(document: Model) -> CrmLink | None:
    """The CRM deal (potential) linked to an invoice or sales order, if any."""
    return CrmLink.objects.active().filter(module=DEALS, **{document_field(document): document}).first()


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
    linked_accounts = linked_customer_ids(module=ACCOUNTS, crm_ids=[str(r["id"]) for r in accounts])
    linked_contacts = linked_customer_ids(module=CONTACTS, crm_ids=[str(r["id"]) for r in contacts])
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
    account_id = account_crm_id(customer)
    if not account_id:
        return []
    with client_for(connection) as client:
        deals = client.deals_of_account(account_id)
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
    "deal_link",
    "document_field",
    "linked_customer_ids",
    "running_sync",
    "stored_views",
    "sync_history",
]
