"""Sales orders: create and edit drafts, confirm, convert to invoices."""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    Customer,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    Organisation,
    SalesOrder,
    SalesOrderLine,
)
from billing.selectors.pricing import effective_terms

from .account_totals import ledger_action
from .invoices import LineInput, create_invoice, price_lines, save_priced_lines, totals_of
from .numbering import next_document_number


@transaction.atomic
def create_sales_order(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    ordered_on: date | None = None,
    expected_shipment_on: date | None = None,
    reference: str = "",
    notes: str = "",
    status: str = SalesOrder.Status.CONFIRMED,
) -> SalesOrder:
    """Create a numbered sales order priced like an invoice (effective price and discount, per-line rounding).

    Raises the line ValidationErrors of `create_invoice`.
    """
    organisation = Organisation.current()
    terms = effective_terms(customer=customer, organisation=organisation)
    priced = price_lines(
        customer=customer, lines=lines, default_discount=terms.discount_percent, organisation=organisation
    )
    totals = totals_of(priced)
    order = SalesOrder(
        customer=customer,
        number=next_document_number(kind=DocumentSequence.Kind.SALES_ORDER),
        currency=customer.currency,
        status=status,
        ordered_on=ordered_on or timezone.localdate(),
        expected_shipment_on=expected_shipment_on,
        reference=reference,
        notes=notes,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
    )
    order.full_clean()
    order.save()
    _create_lines(order, priced)
    return order


def _create_lines(order: SalesOrder, priced) -> None:
    save_priced_lines(SalesOrderLine, priced, sales_order=order)


@transaction.atomic
def update_draft_sales_order(
    *,
    sales_order: SalesOrder,
    customer: Customer,
    lines: Sequence[LineInput],
    ordered_on: date,
    expected_shipment_on: date | None = None,
    reference: str = "",
    notes: str = "",
) -> SalesOrder:
    """Replace a draft sales order's details and lines, re-priced and re-totalled like a new order.

    Locks the order. Raises ValidationError: not_draft once it was confirmed (a confirmed order is
    only converted), and the line errors of `create_invoice`.
    """
    order = SalesOrder.objects.select_for_update().get(pk=sales_order.pk)
    if order.status != SalesOrder.Status.DRAFT:
        raise ValidationError(
            _("Sales order %(so)s is %(status)s; only a draft can be edited."),
            code="not_draft",
            params={"so": order.number, "status": order.get_status_display().lower()},
        )
    organisation = Organisation.current()
    terms = effective_terms(customer=customer, organisation=organisation)
    priced = price_lines(
        customer=customer, lines=lines, default_discount=terms.discount_percent, organisation=organisation
    )
    totals = totals_of(priced)
    order.customer, order.currency = customer, customer.currency
    order.ordered_on, order.expected_shipment_on = ordered_on, expected_shipment_on
    order.reference, order.notes = reference, notes
    order.subtotal, order.discount_total = totals.subtotal, totals.discount_total
    order.tax_total, order.total = totals.tax_total, totals.total
    order.full_clean()
    order.save()
    order.lines.all().delete()  # a draft's lines were never invoiced: nothing refers to them
    _create_lines(order, priced)
    return order


@transaction.atomic
def confirm_sales_order(*, sales_order: SalesOrder) -> SalesOrder:
    """Confirm a draft sales order: its lines freeze and it can be converted to invoices.

    Locks the order. Raises ValidationError: not_draft (already confirmed or void), empty_order.
    """
    order = SalesOrder.objects.select_for_update().get(pk=sales_order.pk)
    if order.status != SalesOrder.Status.DRAFT:
        raise ValidationError(
            _("Sales order %(so)s is already %(status)s; only a draft can be confirmed."),
            code="not_draft",
            params={"so": order.number, "status": order.get_status_display().lower()},
        )
    if not order.lines.exists():
        raise ValidationError(
            _("Sales order %(so)s has no lines; add one before confirming it."),
            code="empty_order",
            params={"so": order.number},
        )
    order.status = SalesOrder.Status.CONFIRMED
    order.save(update_fields=["status"])
    return order


@ledger_action()
def convert_sales_order_to_invoice(
    *,
    sales_order: SalesOrder,
    quantities: Mapping[int, Decimal] | None = None,
    issued_on: date | None = None,
    created_by=None,
) -> Invoice:
    """Invoice a confirmed sales order, whole or in part, as a draft invoice.

    `quantities` maps sales-order line id -> quantity to invoice now (default: all that is left).
    Rates, discounts and taxes are the order's. The order's invoiced status moves to partially
    invoiced or invoiced. Locks the order. Raises ValidationError: sales_order_not_confirmed,
    already_invoiced, exceeds_ordered, nothing_to_invoice.
    """
    order = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=sales_order.pk)
    if order.status != SalesOrder.Status.CONFIRMED:
        raise ValidationError(
            _("Sales order %(so)s is %(status)s; confirm it before invoicing."),
            code="sales_order_not_confirmed",
            params={"so": order.number, "status": order.get_status_display().lower()},
        )
    if order.invoiced_status == SalesOrder.InvoicedStatus.INVOICED:
        raise ValidationError(
            _("Sales order %(so)s is already fully invoiced."),
            code="already_invoiced",
            params={"so": order.number},
        )
    order_lines = list(order.lines.all())
    known = {line.pk for line in order_lines}
    if quantities is not None and any(pk not in known for pk in quantities):
        raise ValidationError(
            _("A line is not on sales order %(so)s."), code="exceeds_ordered", params={"so": order.number}
        )
    inputs, invoiced = [], []
    for line in order_lines:
        left = line.quantity - line.quantity_invoiced
        take = left if quantities is None else quantities.get(line.pk, Decimal("0"))
        if take < 0 or take > left:
            raise ValidationError(
                _("Line “%(line)s” of %(so)s has %(left)s left to invoice; %(asked)s was asked."),
                code="exceeds_ordered",
                params={"line": line.description, "so": order.number, "left": left, "asked": take},
            )
        if take == 0:
            continue
        inputs.append(
            LineInput(
                item=line.item,
                description=line.description,
                quantity=take,
                rate=line.rate,
                discount_percent=line.discount_percent,
                tax_percent=line.tax_percent,
            )
        )
        line.quantity_invoiced += take
        invoiced.append(line)
    if not inputs:
        raise ValidationError(
            _("Nothing is left to invoice on sales order %(so)s."),
            code="nothing_to_invoice",
            params={"so": order.number},
        )
    invoice = create_invoice(
        customer=order.customer,
        lines=inputs,
        issued_on=issued_on,
        reference=order.number,
        sales_order=order,
        created_by=created_by,
    )
    SalesOrderLine.objects.bulk_update(invoiced, ["quantity_invoiced"])
    # create_invoice keeps the input order (position 1..n): link each line to its order line so a
    # void gives the quantity back to the right one.
    invoice_lines = list(invoice.lines.order_by("position"))
    for invoice_line, order_line in zip(invoice_lines, invoiced, strict=True):
        invoice_line.sales_order_line = order_line
    InvoiceLine.objects.bulk_update(invoice_lines, ["sales_order_line"])
    order.invoiced_status = invoiced_status_of(order_lines)
    order.save(update_fields=["invoiced_status"])
    return invoice


def invoiced_status_of(order_lines: Sequence[SalesOrderLine]) -> str:
    """Not invoiced / partially invoiced / invoiced, from the lines' invoiced quantities."""
    if all(line.quantity_invoiced >= line.quantity for line in order_lines):
        return SalesOrder.InvoicedStatus.INVOICED
    if all(line.quantity_invoiced <= 0 for line in order_lines):
        return SalesOrder.InvoicedStatus.NOT_INVOICED
    return SalesOrder.InvoicedStatus.PARTIALLY_INVOICED
