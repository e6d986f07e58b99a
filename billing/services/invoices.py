"""Invoices and retainer invoices: create (priced from the customer's effective terms), send, void."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    CheckoutLine,
    Customer,
    DocumentSequence,
    Invoice,
    InvoiceLine,
    Item,
    Organisation,
    SalesOrder,
    SalesOrderLine,
    Subscription,
)
from billing.money import HUNDRED, ZERO, is_whole_minor_units, quantize
from billing.selectors.pricing import effective_price, effective_terms

from .account_totals import ledger_action
from .numbering import next_document_number


@dataclass(frozen=True)
class LineInput:
    """One line as asked for. Left empty: rate = the customer's effective price of `item`,
    discount = the customer's effective discount (invoices; credit notes default to none),
    tax = the item's tax rate, description = the item's name."""

    item: Item | None = None
    description: str = ""
    quantity: Decimal = Decimal("1")
    rate: Decimal | None = None
    discount_percent: Decimal | None = None
    tax_percent: Decimal | None = None


@dataclass(frozen=True)
class PricedLine:
    item: Item | None
    description: str
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal
    tax_percent: Decimal
    amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal


def save_priced_lines(line_model, priced: Iterable[PricedLine], **document) -> list:
    """Store priced lines under their document (invoice=…, sales_order=…, credit_note=…), numbered in order.

    One INSERT for all lines: the amounts were rounded and checked by `price_lines`.
    """
    return line_model.objects.bulk_create(
        line_model(position=position, **document, **{f.name: getattr(line, f.name) for f in fields(PricedLine)})
        for position, line in enumerate(priced, start=1)
    )


@dataclass(frozen=True)
class Totals:
    """subtotal = Σ line amounts (after line discounts); total = subtotal + tax; discount is for display."""

    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def line_amounts(
    *, quantity: Decimal, rate: Decimal, discount_percent: Decimal, tax_percent: Decimal, currency: str
) -> tuple[Decimal, Decimal, Decimal]:
    """(amount, discount_amount, tax_amount) of one line, each rounded once, half up.

    amount = quantity × rate − discount, rounded; the discount is the rounded gross minus that;
    the tax is charged on the rounded amount and rounded per line.
    """
    gross = quantity * rate
    amount = quantize(gross * (HUNDRED - discount_percent) / HUNDRED, currency)
    discount_amount = quantize(gross, currency) - amount
    tax_amount = quantize(amount * tax_percent / HUNDRED, currency)
    return amount, discount_amount, tax_amount


def totals_of(lines: Iterable) -> Totals:
    """Add up already rounded lines (anything with amount, discount_amount, tax_amount)."""
    lines = list(lines)
    subtotal = sum((line.amount for line in lines), ZERO)
    discount = sum((line.discount_amount for line in lines), ZERO)
    tax = sum((line.tax_amount for line in lines), ZERO)
    return Totals(subtotal=subtotal, discount_total=discount, tax_total=tax, total=subtotal + tax)


def price_lines(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    default_discount: Decimal | None,
    organisation: Organisation | None = None,
) -> list[PricedLine]:
    """Fill in and round every line; ValidationError on a line that can't be priced."""
    if not lines:
        raise ValidationError(_("Add at least one line."), code="no_lines")
    currency = customer.currency
    priced = []
    for position, line in enumerate(lines, start=1):
        if not isinstance(line.quantity, Decimal) or not line.quantity.is_finite() or line.quantity <= 0:
            raise ValidationError(
                _("Line %(n)s: the quantity must be above zero, not %(q)s."),
                code="bad_quantity",
                params={"n": position, "q": line.quantity},
            )
        if line.rate is not None:
            rate = line.rate
        elif line.item is not None:
            rate = effective_price(customer=customer, item=line.item, organisation=organisation)
        else:
            raise ValidationError(
                _("Line %(n)s has neither an item nor a rate."), code="missing_rate", params={"n": position}
            )
        if not isinstance(rate, Decimal) or rate < 0 or not is_whole_minor_units(rate, currency):
            raise ValidationError(
                _("Line %(n)s: the rate must be zero or more in whole %(cur)s units, not %(r)s."),
                code="bad_rate",
                params={"n": position, "cur": currency, "r": rate},
            )
        discount = line.discount_percent if line.discount_percent is not None else (default_discount or ZERO)
        tax = line.tax_percent if line.tax_percent is not None else (line.item.tax_percent if line.item else ZERO)
        if not (0 <= discount <= 100) or not (0 <= tax <= 100):
            raise ValidationError(
                _("Line %(n)s: discount and tax are percentages from 0 to 100."),
                code="bad_percent",
                params={"n": position},
            )
        amount, discount_amount, tax_amount = line_amounts(
            quantity=line.quantity,
            rate=rate,
            discount_percent=Decimal(discount),
            tax_percent=Decimal(tax),
            currency=currency,
        )
        description = line.description or (line.item.name if line.item else "")
        if not description:
            raise ValidationError(
                _("Line %(n)s needs a description."), code="missing_description", params={"n": position}
            )
        priced.append(
            PricedLine(
                line.item,
                description,
                line.quantity,
                rate,
                Decimal(discount),
                Decimal(tax),
                amount,
                discount_amount,
                tax_amount,
            )
        )
    return priced


@ledger_action()
def create_invoice(
    *,
    customer: Customer,
    lines: Sequence[LineInput],
    issued_on: date | None = None,
    due_on: date | None = None,
    is_retainer: bool = False,
    reference: str = "",
    notes: str = "",
    terms: str = "",
    allow_partial_payments: bool = True,
    sales_order: SalesOrder | None = None,
    subscription: Subscription | None = None,
    billing_period_start: date | None = None,
    created_by=None,
    require_lines: bool = True,
) -> Invoice:
    """Create a draft invoice (or retainer invoice) with its lines, numbered and totalled.

    Rates come from the customer's effective price list, the discount from its effective terms,
    the due date from its effective payment terms; each line is rounded, then the lines are
    added. The number is taken in this transaction (gap-free). Raises ValidationError
    (no_lines, bad_quantity, missing_rate, bad_rate, bad_percent, due_before_issue, …).
    `require_lines=False` lets the back office start an empty draft and add lines before sending.
    """
    organisation = Organisation.current()
    terms_now = effective_terms(customer=customer, organisation=organisation)
    issued_on = issued_on or timezone.localdate()
    due_on = due_on or issued_on + timedelta(days=terms_now.payment_terms_days)
    if due_on < issued_on:
        raise ValidationError(
            _("The due date %(due)s is before the invoice date %(issued)s."),
            code="due_before_issue",
            params={"due": due_on, "issued": issued_on},
        )
    priced = (
        price_lines(
            customer=customer,
            lines=lines,
            # A retainer asks for an agreed advance: the customer's discount does not apply.
            default_discount=ZERO if is_retainer else terms_now.discount_percent,
            organisation=organisation,
        )
        if lines or require_lines
        else []
    )
    totals = totals_of(priced)
    kind = DocumentSequence.Kind.RETAINER if is_retainer else DocumentSequence.Kind.INVOICE
    invoice = Invoice(
        customer=customer,
        number=next_document_number(kind=kind),
        is_retainer=is_retainer,
        status=Invoice.Status.DRAFT,
        currency=customer.currency,
        issued_on=issued_on,
        due_on=due_on,
        reference=reference,
        notes=notes,
        terms=terms,
        allow_partial_payments=allow_partial_payments,
        subtotal=totals.subtotal,
        discount_total=totals.discount_total,
        tax_total=totals.tax_total,
        total=totals.total,
        balance_due=totals.total,
        sales_order=sales_order,
        subscription=subscription,
        billing_period_start=billing_period_start,
        created_by=created_by,
    )
    invoice.full_clean()
    invoice.save()
    save_priced_lines(InvoiceLine, priced, invoice=invoice)
    return invoice


@ledger_action()
def recalculate_draft_invoice(*, invoice: Invoice) -> Invoice:
    """Re-round every line of a draft (edited in the admin) and its totals; balance = total.

    Raises ValidationError(code="not_draft") once the invoice was sent: a sent invoice's
    amounts change only through a credit note.
    """
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != Invoice.Status.DRAFT:
        raise ValidationError(
            _("Invoice %(inv)s was sent; correct it with a credit note instead."),
            code="not_draft",
            params={"inv": invoice.number},
        )
    lines = list(invoice.lines.all())
    for line in lines:
        line.amount, line.discount_amount, line.tax_amount = line_amounts(
            quantity=line.quantity,
            rate=line.rate,
            discount_percent=line.discount_percent,
            tax_percent=line.tax_percent,
            currency=invoice.currency,
        )
    InvoiceLine.objects.bulk_update(lines, ["amount", "discount_amount", "tax_amount"])
    totals = totals_of(lines)
    invoice.subtotal, invoice.discount_total = totals.subtotal, totals.discount_total
    invoice.tax_total, invoice.total, invoice.balance_due = totals.tax_total, totals.total, totals.total
    invoice.save(update_fields=["subtotal", "discount_total", "tax_total", "total", "balance_due", "updated_at"])
    return invoice


@ledger_action()
def send_invoices(*, invoices: QuerySet[Invoice] | Iterable[Invoice], sent_by=None) -> list[Invoice]:
    """Mark drafts as sent (they become payable and their amounts freeze), all or nothing.

    Raises ValidationError: not_draft (already sent or void), empty_invoice (total zero).
    """
    ids = [invoice.pk for invoice in invoices]
    locked = list(Invoice.objects.filter(pk__in=ids).select_for_update().order_by("pk"))
    now = timezone.now()
    for invoice in locked:
        if invoice.status != Invoice.Status.DRAFT:
            raise ValidationError(
                _("Invoice %(inv)s is already %(status)s; only drafts can be sent."),
                code="not_draft",
                params={"inv": invoice.number, "status": invoice.get_status_display().lower()},
            )
        if invoice.total <= 0:
            raise ValidationError(
                _("Invoice %(inv)s totals %(total)s %(cur)s; add a line before sending it."),
                code="empty_invoice",
                params={"inv": invoice.number, "total": invoice.total, "cur": invoice.currency},
            )
        invoice.status = Invoice.Status.SENT
        invoice.sent_at = now
        invoice.balance_due = invoice.total
    Invoice.objects.bulk_update(locked, ["status", "sent_at", "balance_due"])
    return locked


def send_invoice(*, invoice: Invoice, sent_by=None) -> Invoice:
    """Send one draft invoice; see `send_invoices`."""
    (sent,) = send_invoices(invoices=[invoice], sent_by=sent_by)
    return sent


@ledger_action()
def void_invoice(*, invoice: Invoice) -> Invoice:
    """Void an invoice that nothing was applied to: it no longer counts anywhere, and neither does
    any credit raised for it.

    Credit notes raised against the invoice (`CreditNote.invoice`) that are still wholly unused are
    voided with it in the same transaction: a credit for an invoice that no longer exists must not
    stay on the customer's account. A credit note against it that was already used, even in part
    (applied to any invoice or refunded), makes the void refuse: that money went out for this
    invoice, applications and refunds are never undone, and voiding only the unused rest would leave
    the used part as credit without a reason. Correct such an invoice with a further credit note.
    A retainer invoice that was paid can't be voided either (its payment would dangle): refund that
    payment first, which takes its unused money off the retainer and reopens it.
    An invoice converted from a sales order gives its quantities back to the order's lines (and
    the order's invoiced status moves back) in the same transaction, so they can be invoiced again.
    Locks: the invoice's credit notes (id order), then the invoice (the credit services' order).
    Raises ValidationError: already_void; has_applications when a payment, credit note or retainer
    was applied to it (refund or reverse those first, or issue a credit note instead), or when it is
    a retainer invoice that was paid; payment_processing while an online payment of it is still
    processing; credit_note_used when a credit note raised against it was applied or refunded.
    """
    from .credits import check_credit_notes_unused, lock_credit_notes_of, void_credit_notes  # credits imports us

    notes = lock_credit_notes_of(invoice_id=invoice.pk)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    # A credit note is created only under the invoice's lock: now that we hold it, the set is final.
    notes += lock_credit_notes_of(invoice_id=invoice.pk, exclude=[note.pk for note in notes])
    if invoice.status == Invoice.Status.VOID:
        raise ValidationError(
            _("Invoice %(inv)s is already void."), code="already_void", params={"inv": invoice.number}
        )
    if invoice.is_retainer and (invoice.balance_due < invoice.total or invoice.retainer_unused > 0):
        raise ValidationError(
            _(
                "Retainer invoice %(inv)s was paid (%(paid)s %(cur)s, of which %(unused)s %(cur)s is unused); "
                "a paid retainer can't be voided. Give the unused money back by refunding the payment that paid it."
            ),
            code="has_applications",
            params={
                "inv": invoice.number,
                "paid": invoice.total - invoice.balance_due,
                "unused": invoice.retainer_unused,
                "cur": invoice.currency,
            },
        )
    # balance_due < total exactly when money is applied (reversed payments give it back).
    if invoice.status != Invoice.Status.DRAFT and invoice.balance_due < invoice.total:
        raise ValidationError(
            _(
                "Invoice %(inv)s has %(paid)s %(cur)s of payments, credits or retainers applied; "
                "it can't be voided. Issue a credit note instead."
            ),
            code="has_applications",
            params={
                "inv": invoice.number,
                "paid": invoice.total - invoice.balance_due,
                "cur": invoice.currency,
            },
        )
    if CheckoutLine.objects.processing().filter(invoice=invoice).exists():
        # The money would arrive for a void invoice and stay on the account as credit without a reason.
        raise ValidationError(
            _(
                "A payment of invoice %(inv)s is still processing; void it once that payment "
                "has settled (then credit it instead) or failed."
            ),
            code="payment_processing",
            params={"inv": invoice.number},
        )
    check_credit_notes_unused(notes=notes, invoice=invoice)
    invoice.status = Invoice.Status.VOID
    invoice.voided_at = timezone.now()
    invoice.balance_due = ZERO
    invoice.save(update_fields=["status", "voided_at", "balance_due", "updated_at"])
    void_credit_notes(notes=notes)
    if invoice.sales_order_id is not None:
        _return_quantities_to_order(invoice)
    return invoice


def _return_quantities_to_order(invoice: Invoice) -> None:
    """Take a voided invoice's quantities off its sales order's lines; move the invoiced status back.

    Lock order invoice -> sales order; conversion locks the order and only creates invoices, so
    the two never wait on each other in a cycle.
    """
    from .sales_orders import invoiced_status_of  # sales_orders imports this module

    order = SalesOrder.objects.select_for_update().get(pk=invoice.sales_order_id)
    order_lines = {line.pk: line for line in order.lines.all()}
    changed = {}
    for invoice_line in invoice.lines.filter(sales_order_line__isnull=False):
        order_line = order_lines[invoice_line.sales_order_line_id]
        order_line.quantity_invoiced -= invoice_line.quantity
        changed[order_line.pk] = order_line
    SalesOrderLine.objects.bulk_update(changed.values(), ["quantity_invoiced"])
    order.invoiced_status = invoiced_status_of(list(order_lines.values()))
    order.save(update_fields=["invoiced_status"])


@transaction.atomic
def stamp_first_view(*, document: Invoice | SalesOrder) -> bool:
    """Record when the customer first opened this invoice or sales order in the portal, once.

    The row is locked so two tabs opening at once stamp it once. Returns True on the first view
    (and sets `document.first_viewed_at` too), False when it was already stamped.
    """
    locked = type(document).objects.select_for_update().get(pk=document.pk)
    if locked.first_viewed_at is not None:
        return False
    locked.first_viewed_at = document.first_viewed_at = timezone.now()
    locked.save(update_fields=["first_viewed_at"])
    return True
