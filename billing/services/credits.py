"""Credit notes (create, apply, void) and retainers applied to later invoices."""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteLine,
    Customer,
    DocumentSequence,
    Invoice,
    Refund,
    RetainerApplication,
)
from billing.money import ZERO
from billing.selectors.pricing import effective_terms

from ._targets import check_applications, check_targets, lock_invoices, write_applications
from .account_totals import ledger_action
from .invoices import LineInput, price_lines, save_priced_lines, totals_of
from .numbering import next_document_number


@ledger_action()
def create_credit_note(
    *,
    customer: Customer | None = None,
    lines: Sequence[LineInput] | None = None,
    invoice: Invoice | None = None,
    issued_on: date | None = None,
    reason: str = "",
    effective_discount: bool = False,
) -> CreditNote:
    """Issue a credit note, free-standing or correcting an invoice; its whole total is open credit.

    From an invoice: the customer is the invoice's, lines default to a copy of the invoice's,
    and all credit notes of that invoice together can't exceed its total. Line rates left empty
    come from the effective price; discounts left empty are none, or with `effective_discount` the
    customer's effective discount (the back office's form: empty = the customer's). Raises ValidationError
    (no_lines, invoice_not_sent, exceeds_invoice_total, wrong_customer, …).
    """
    if invoice is not None:
        invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
        if customer is not None and customer.pk != invoice.customer_id:
            raise ValidationError(
                _("Invoice %(inv)s belongs to %(owner)s, not %(customer)s."),
                code="wrong_customer",
                params={
                    "inv": invoice.number,
                    "owner": invoice.customer.display_name,
                    "customer": customer.display_name,
                },
            )
        customer = invoice.customer
        if invoice.status in (Invoice.Status.DRAFT, Invoice.Status.VOID) or invoice.is_retainer:
            raise ValidationError(
                _("Invoice %(inv)s is %(status)s; only sent invoices are credited."),
                code="invoice_not_sent",
                params={"inv": invoice.number, "status": invoice.get_status_display().lower()},
            )
        if lines is None:
            lines = [
                LineInput(
                    item=line.item,
                    description=line.description,
                    quantity=line.quantity,
                    rate=line.rate,
                    discount_percent=line.discount_percent,
                    tax_percent=line.tax_percent,
                )
                for line in invoice.lines.all()
            ]
    if customer is None:
        raise ValidationError(_("Choose the customer to credit."), code="no_customer")
    default_discount = effective_terms(customer=customer).discount_percent if effective_discount else ZERO
    priced = price_lines(customer=customer, lines=lines or [], default_discount=default_discount)
    totals = totals_of(priced)
    if totals.total <= 0:
        raise ValidationError(_("A credit note must total more than zero."), code="bad_amount")
    if invoice is not None:
        credited = (
            CreditNote.objects.filter(invoice=invoice)
            .exclude(status=CreditNote.Status.VOID)
            .aggregate(s=Sum("total", default=ZERO))["s"]
        )
        if credited + totals.total > invoice.total:
            raise ValidationError(
                _(
                    "Invoice %(inv)s totals %(total)s %(cur)s and %(credited)s is already credited; "
                    "a further %(asked)s is too much."
                ),
                code="exceeds_invoice_total",
                params={
                    "inv": invoice.number,
                    "total": invoice.total,
                    "cur": invoice.currency,
                    "credited": credited,
                    "asked": totals.total,
                },
            )
    note = CreditNote(
        customer=customer,
        number=next_document_number(kind=DocumentSequence.Kind.CREDIT_NOTE),
        invoice=invoice,
        currency=customer.currency,
        issued_on=issued_on or timezone.localdate(),
        reason=reason,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        balance=totals.total,
    )
    note.full_clean()
    note.save()
    save_priced_lines(CreditNoteLine, priced, credit_note=note)
    return note


@ledger_action()
def void_credit_note(*, credit_note: CreditNote) -> CreditNote:
    """Cancel a credit note nothing was taken from: it no longer counts as credit anywhere.

    Locks the note; its balance goes to zero (as a void invoice's does) and its number stays
    used. Raises ValidationError: already_void; credit_used when any of it was applied to an
    invoice or refunded (a used credit is corrected by a new invoice, not by a void).
    """
    note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
    if note.status == CreditNote.Status.VOID:
        raise ValidationError(
            _("Credit note %(cn)s is already void."), code="already_void", params={"cn": note.number}
        )
    applied, refunded = _used([note])[note.pk]
    if applied or refunded:
        raise ValidationError(
            _(
                "Credit note %(cn)s can't be voided: %(applied)s %(cur)s of it was applied to invoices "
                "and %(refunded)s %(cur)s refunded. Only an unused credit note can be voided."
            ),
            code="credit_used",
            params={"cn": note.number, "applied": applied, "refunded": refunded, "cur": note.currency},
        )
    void_credit_notes(notes=[note])
    return note


def _used(notes: Sequence[CreditNote]) -> dict[int, tuple[Decimal, Decimal]]:
    """{note id: (applied to invoices, refunded)} for these notes: two grouped queries."""
    ids = [note.pk for note in notes]
    applied = dict(
        CreditApplication.objects.filter(credit_note__in=ids)
        .order_by()
        .values("credit_note")
        .annotate(s=Sum("amount"))
        .values_list("credit_note", "s")
    )
    refunded = dict(
        Refund.objects.filter(credit_note__in=ids)
        .order_by()
        .values("credit_note")
        .annotate(s=Sum("amount"))
        .values_list("credit_note", "s")
    )
    return {pk: (applied.get(pk, ZERO), refunded.get(pk, ZERO)) for pk in ids}


def lock_credit_notes_of(*, invoice_id: int, exclude: Sequence[int] = ()) -> list[CreditNote]:
    """Lock the credit notes raised against this invoice that are not void, in id order (for void_invoice).

    Credit notes are locked before invoices everywhere (apply_credit_note), so the caller locks
    the invoice after these."""
    return list(
        CreditNote.objects.filter(invoice_id=invoice_id)
        .exclude(status=CreditNote.Status.VOID)
        .exclude(pk__in=list(exclude))
        .select_for_update()
        .order_by("pk")
    )


def check_credit_notes_unused(*, notes: Sequence[CreditNote], invoice: Invoice) -> None:
    """Refuse (credit_note_used) when any of these locked credit notes of `invoice` was applied or refunded.

    Voiding an invoice voids its credit notes whole or not at all: what was applied or refunded
    from a note was given for that invoice, and those rows are never undone.
    """
    used = _used(notes)
    for note in notes:
        applied, refunded = used[note.pk]
        if applied or refunded:
            raise ValidationError(
                _(
                    "Invoice %(inv)s can't be voided: credit note %(cn)s raised against it was already used "
                    "(%(applied)s %(cur)s applied to invoices, %(refunded)s %(cur)s refunded), and that credit "
                    "would outlive its invoice. Credit the rest of the invoice with a new credit note instead."
                ),
                code="credit_note_used",
                params={
                    "inv": invoice.number,
                    "cn": note.number,
                    "applied": applied,
                    "refunded": refunded,
                    "cur": note.currency,
                },
            )


def void_credit_notes(*, notes: Sequence[CreditNote]) -> None:
    """Void these locked, unused credit notes: balance to zero, number kept. Callers checked them."""
    for note in notes:
        note.status = CreditNote.Status.VOID
        note.balance = ZERO
    CreditNote.objects.bulk_update(notes, ["status", "balance"])


def _settle(invoices: Mapping[int, Invoice], applications: Mapping[int, Decimal]) -> None:
    for pk, amount in applications.items():
        invoices[pk].settle(amount)
    Invoice.objects.bulk_update([invoices[pk] for pk in applications], ["balance_due", "status"])


@ledger_action()
def apply_credit_note(
    *, credit_note: CreditNote, applications: Mapping[int, Decimal], applied_on: date | None = None
) -> list[CreditApplication]:
    """Apply open credit to invoices of the holder or of a branch open to it, all or nothing.

    Credit note locked first, then invoices in id order. Raises ValidationError (credit_not_open,
    exceeds_credit and the payer-rule codes).
    """
    note = (
        CreditNote.objects.select_for_update(of=("self",)).select_related("customer").get(pk=credit_note.pk)
    )
    requested = check_applications(applications, note.currency)
    if note.status != CreditNote.Status.OPEN:
        raise ValidationError(
            _("Credit note %(cn)s is %(status)s."),
            code="credit_not_open",
            params={"cn": note.number, "status": note.get_status_display().lower()},
        )
    if requested > note.balance:
        raise ValidationError(
            _("Credit note %(cn)s has %(left)s %(cur)s left; %(asked)s was requested."),
            code="exceeds_credit",
            params={"cn": note.number, "left": note.balance, "cur": note.currency, "asked": requested},
        )
    invoices = lock_invoices(applications)
    check_targets(
        payer=note.customer,
        currency=note.currency,
        applications=applications,
        invoices=invoices,
        regular_only=True,
    )
    _settle(invoices, applications)
    note.balance -= requested
    if note.balance == 0:
        note.status = CreditNote.Status.CLOSED
    note.save(update_fields=["balance", "status"])
    return write_applications(CreditApplication, source_field="credit_note", source=note, invoices=invoices,
                              applications=applications, applied_on=applied_on)


@ledger_action()
def apply_retainer(
    *, retainer: Invoice, applications: Mapping[int, Decimal], applied_on: date | None = None
) -> list[RetainerApplication]:
    """Apply a paid retainer's unused amount to later regular invoices, all or nothing.

    The retainer and the invoices are locked together in id order (they are all invoices).
    Raises ValidationError (not_a_retainer, exceeds_retainer and the payer-rule codes).
    """
    if retainer.pk in applications:
        raise ValidationError(_("A retainer can't be applied to itself."), code="retainer_invoice")
    check_applications(applications, retainer.currency)
    invoices = lock_invoices([retainer.pk, *applications])
    retainer = invoices.pop(retainer.pk)
    requested = sum(applications.values(), ZERO)
    if not retainer.is_retainer:
        raise ValidationError(
            _("%(inv)s is not a retainer invoice."), code="not_a_retainer", params={"inv": retainer.number}
        )
    if requested > retainer.retainer_unused:
        raise ValidationError(
            _("Retainer %(ret)s has %(left)s %(cur)s paid and unused; %(asked)s was requested."),
            code="exceeds_retainer",
            params={
                "ret": retainer.number,
                "left": retainer.retainer_unused,
                "cur": retainer.currency,
                "asked": requested,
            },
        )
    check_targets(
        payer=retainer.customer,
        currency=retainer.currency,
        applications=applications,
        invoices=invoices,
        regular_only=True,
    )
    _settle(invoices, applications)
    retainer.retainer_unused -= requested
    retainer.save(update_fields=["retainer_unused", "updated_at"])
    return write_applications(RetainerApplication, source_field="retainer", source=retainer, invoices=invoices,
                              applications=applications, applied_on=applied_on)
