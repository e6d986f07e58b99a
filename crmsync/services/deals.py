"""Won deal → draft invoice: CRM deals of linked accounts that reach a won stage are invoiced once.

Read during the sync: Deals modified since the last deal cursor (`CrmConnection.deals_synced_until`).
A deal in one of the connection's won stages whose account is linked to a customer becomes one draft
invoice, made by billing's `create_invoice`: the products associated with the deal (its Products
related list, one line each at their unit price) as lines, otherwise its Amount as one line.
`WonDealInvoice` (unique deal id) makes it once per deal, ever; staff get a StaffNotification.
Off with `CrmConnection.invoice_won_deals`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Customer, Invoice
from billing.services import LineInput, create_invoice
from crmsync.mapping import ACCOUNTS
from crmsync.models import CrmConnection, CrmLink, SyncFailure, SyncRun, WonDealInvoice
from crmsync.selectors import linked_customer_ids
from crmsync.zoho import CrmMalformedResponse, CrmRequestError, ZohoClient
from portal.models import StaffNotification

DEALS = "Deals"
DEAL_FIELDS = ["Deal_Name", "Stage", "Amount", "Account_Name", "Closing_Date", "Modified_Time"]
PRODUCT_FIELDS = "Product_Name,Unit_Price"


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@transaction.atomic
def configure_won_deal_invoicing(*, enabled: bool, stages: str) -> CrmConnection:
    """Switch won-deal invoicing on or off and name the won stages (comma separated).

    Writes only these two columns, so tokens refreshed by a running sync are not overwritten.
    Raises ValidationError (code "no_stages") when switched on without a stage name.
    """
    names = [name.strip() for name in stages.split(",") if name.strip()]
    if enabled and not names:
        raise ValidationError(_("Name at least one deal stage that counts as won."), code="no_stages")
    joined = ", ".join(dict.fromkeys(names))
    if len(joined) > 255:
        raise ValidationError(_("The stage names are too long; keep them under 255 characters."), code="too_long")
    connection = CrmConnection.current()
    CrmConnection.objects.filter(pk=connection.pk).update(
        invoice_won_deals=enabled, won_deal_stages=joined or connection.won_deal_stages
    )
    connection.refresh_from_db()
    return connection


def deal_lines(deal: dict[str, Any], products: list[dict[str, Any]]) -> list[LineInput]:
    """The invoice lines of a deal: its products (name, unit price) or its Amount as one line.

    Raises ValidationError (code "no_amount") when the deal has neither.
    """
    lines = []
    for product in products:
        rate = _money(product.get("Unit_Price"))
        if rate is None:
            continue
        name = str(product.get("Product_Name") or _("Product"))
        lines.append(LineInput(description=name[:255], quantity=Decimal("1"), rate=rate, discount_percent=Decimal("0")))
    if lines:
        return lines
    amount = _money(deal.get("Amount"))
    if amount is None:
        raise ValidationError(_("The deal has neither products nor an amount to invoice."), code="no_amount")
    name = str(deal.get("Deal_Name") or _("Deal"))
    return [LineInput(description=name[:255], quantity=Decimal("1"), rate=amount, discount_percent=Decimal("0"))]


def deal_products(*, client: ZohoClient, deal_id: str) -> list[dict[str, Any]]:
    """The products associated with a deal (its Products related list; Zoho answers 204 for none)."""
    body = client.request("GET", f"{DEALS}/{deal_id}/Products", params={"fields": PRODUCT_FIELDS})
    if body is None:
        return []
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        raise CrmMalformedResponse("Zoho CRM sent a deal's products in an unknown shape.")
    return [r for r in rows if isinstance(r, dict)]


def invoice_won_deal(*, deal: dict[str, Any], products: list[dict[str, Any]], customer: Customer) -> Invoice | None:
    """Make the draft invoice of one won deal, once: None when this deal was already invoiced.

    Atomic: the deal's `WonDealInvoice` row, the invoice (made by billing's `create_invoice`), its
    link to the deal and the staff notification are written together or not at all. Raises
    ValidationError from `create_invoice` (bad amount, …).
    """
    deal_id = str(deal["id"])
    name = str(deal.get("Deal_Name") or "")[:255]
    with transaction.atomic():
        # The unique deal id first: a second sight of the deal (even concurrent) finds it and stops.
        claim, created = WonDealInvoice.objects.get_or_create(crm_deal_id=deal_id, defaults={"deal_name": name})
        deal_invoiced = CrmLink.objects.active().filter(
            module=CrmLink.Module.DEALS, crm_id=deal_id, invoice__isnull=False
        )
        if not created or deal_invoiced.exists():
            return None
        invoice = create_invoice(customer=customer, lines=deal_lines(deal, products), reference=name[:60])
        CrmLink.objects.create(
            invoice=invoice, module=CrmLink.Module.DEALS, crm_id=deal_id, crm_name=name, synced_at=timezone.now()
        )
        claim.invoice = invoice
        claim.save(update_fields=["invoice"])
        StaffNotification.objects.create(
            kind=StaffNotification.Kind.WON_DEAL,
            customer=customer,
            invoice=invoice,
            message=(
                _("Deal “%(deal)s” was won in Zoho CRM: draft invoice %(number)s (%(total)s %(cur)s) is ready to send.")
                % {"deal": name, "number": invoice.number, "total": invoice.total, "cur": invoice.currency}
            )[:500],
        )
    return invoice


def invoice_won_deals(*, run: SyncRun, connection: CrmConnection, client: ZohoClient, since) -> int:
    """Read deals modified since `since` and invoice the won ones of linked accounts. Returns how many.

    A deal whose invoice cannot be made is recorded in the run's history with the reason and tried
    again when it is next modified (or the deal cursor is reset). CRM errors propagate.
    """
    won = connection.won_stages
    made = 0
    for page in client.iter_pages(DEALS, fields=DEAL_FIELDS, modified_since=since):
        deals = [
            d
            for d in page.records
            if str(d.get("Stage") or "").strip().casefold() in won and isinstance(d.get("Account_Name"), dict)
        ]
        if not deals:
            continue
        done = set(
            WonDealInvoice.objects.filter(crm_deal_id__in=[str(d["id"]) for d in deals]).values_list(
                "crm_deal_id", flat=True
            )
        )
        linked = linked_customer_ids(module=ACCOUNTS, crm_ids=[str(d["Account_Name"].get("id")) for d in deals])
        by_pk = Customer.objects.in_bulk(linked.values())
        customers = {crm_id: by_pk[pk] for crm_id, pk in linked.items() if pk in by_pk}
        for deal in deals:
            customer = customers.get(str(deal["Account_Name"].get("id")))
            if str(deal["id"]) in done or customer is None:
                continue
            try:
                products = deal_products(client=client, deal_id=str(deal["id"]))
            except CrmRequestError as exc:
                reason = exc.reason
            else:
                reason = ""
            try:
                if reason:
                    raise ValidationError(reason, code="products_unreadable")
                invoice = invoice_won_deal(deal=deal, products=products, customer=customer)
            except ValidationError as exc:
                SyncFailure.objects.create(
                    run=run,
                    direction=SyncFailure.Direction.FETCH,
                    module=DEALS,
                    crm_id=str(deal["id"]),
                    customer_id=customer.pk,
                    record_name=str(deal.get("Deal_Name") or "")[:255],
                    reason=_("No invoice made from the won deal: %(reason)s") % {"reason": " ".join(exc.messages)},
                )
                SyncRun.objects.filter(pk=run.pk).update(failed=F("failed") + 1)
                continue
            if invoice is not None:
                made += 1
                SyncRun.objects.filter(pk=run.pk).update(invoices_from_deals=F("invoices_from_deals") + 1)
    return made


def sync_won_deals(*, run: SyncRun, connection: CrmConnection, client: ZohoClient, since) -> None:
    """The sync's deal step: invoice won deals (when switched on) and move the deal cursor.

    The first run invoices nothing: it reads every deal once and records the ones already won as
    seen, so that neither they nor the clock overlap of the next run's read invoice an old win.
    """
    started = run.started_at
    if connection.deals_synced_until is None:
        _mark_won_deals_seen(connection=connection, client=client)
    elif connection.invoice_won_deals:
        invoice_won_deals(run=run, connection=connection, client=client, since=since)
    CrmConnection.objects.filter(pk=connection.pk).update(deals_synced_until=started)


def _mark_won_deals_seen(*, connection: CrmConnection, client: ZohoClient) -> None:
    won = connection.won_stages
    for page in client.iter_pages(DEALS, fields=["Deal_Name", "Stage"]):
        seen = [
            WonDealInvoice(crm_deal_id=str(d["id"]), deal_name=str(d.get("Deal_Name") or "")[:255])
            for d in page.records
            if str(d.get("Stage") or "").strip().casefold() in won
        ]
        WonDealInvoice.objects.bulk_create(seen, ignore_conflicts=True)
