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


def account_crm_id(customer: Customer) -> str | None:
    """The id of the CRM account linked to this customer, if any."""
    links = CrmLink.objects.active().of_customers(ACCOUNTS).filter(customer=customer)
    return links.values_list("crm_id", flat=True).first()


def deal_link(document: Model) -> CrmLink | None:
    """The CRM deal (potential) linked to an invoice or sales order, if any."""
    return CrmLink.objects.active().filter(module=DEALS, **{document_field(document): document}).first()


def documents_for_crm(model: type[Model]) -> QuerySet:
    """The invoices or sales orders that belong in the CRM: not drafts, of a customer linked to an
    account. Each carries `account_crm_id` and `deal_crm_id` (None without a deal)."""
    accounts = CrmLink.objects.active().of_customers(ACCOUNTS).filter(customer_id=OuterRef("customer_id"))
    deals = CrmLink.objects.active().filter(module=DEALS, **{document_field(model): OuterRef("pk")})
    return (
        model.objects.exclude(status="draft")
        .filter(Exists(accounts))
        .annotate(
            account_crm_id=Subquery(accounts.values("crm_id")[:1]),
            deal_crm_id=Subquery(deals.values("crm_id")[:1]),
        )
        .select_related("customer")
    )


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
    "crm_deals",
    "crm_fields",
    "crm_search",
    "crm_views",
    "deal_link",
    "document_field",
    "documents_for_crm",
    "linked_customer_ids",
    "running_sync",
    "stored_views",
    "sync_history",
]
