"""Payments received and their allocation to invoices."""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from billing.models import Allocation, Customer, DocumentSequence, Invoice, Payment
from billing.selectors.customers import customers_under

from ._targets import check_amount, check_applications, check_targets, lock_invoices, write_applications
from .account_totals import ledger_action
from .numbering import next_document_number


def _settle(invoices: Mapping[int, Invoice], applications: Mapping[int, Decimal]) -> None:
    for pk, amount in applications.items():
        invoice = invoices[pk]
        invoice.settle(amount)
        if invoice.is_retainer:  # money paid in advance: available to apply or refund later
            invoice.retainer_unused += amount
    Invoice.objects.bulk_update(
        [invoices[pk] for pk in applications], ["balance_due", "status", "retainer_unused"]
    )


def _check_dates(
    payment: Payment, invoices: Mapping[int, Invoice], applied_on: date | None, confirm_early_date: bool
) -> None:
    """Refuse money applied to an invoice on a date before the invoice was issued, unless staff confirm it.

    Only a date someone gave is checked (the payment's date when it is recorded, an explicit
    `applied_on`): it is most likely a typo. Allocations dated today by default (the gateway's
    payments, credit applied later) are not: money that arrives today for an invoice dated ahead
    was simply paid early, and an old excess payment may always pay a newer invoice.
    """
    if applied_on is None or confirm_early_date:
        return
    early = sorted((inv for inv in invoices.values() if applied_on < inv.issued_on), key=lambda i: (i.issued_on, i.pk))
    if not early:
        return
    invoice = early[0]  # the earliest document it pays
    params = {
        "pay": payment.number,
        "on": date_format(applied_on, "j M Y"),
        "inv": invoice.number,
        "issued": date_format(invoice.issued_on, "j M Y"),
    }
    if applied_on == payment.paid_on:
        message = _(
            "Payment %(pay)s is dated %(on)s, before invoice %(inv)s was issued on %(issued)s. "
            "Correct the date, or confirm it if the money really came first."
        )
    else:
        message = _(
            "Payment %(pay)s would be applied on %(on)s, before invoice %(inv)s was issued on %(issued)s. "
            "Correct the date, or confirm it if the money really came first."
        )
    raise ValidationError(message, code="dated_before_invoice", params=params)


def _allocate(
    payment: Payment, allocations: Mapping[int, Decimal], applied_on: date | None, confirm_early_date: bool = False
) -> list[Allocation]:
    """The allocation itself; the caller holds the payment's lock."""
    requested = check_applications(allocations, payment.currency)
    if payment.status != Payment.Status.SUCCEEDED:
        raise ValidationError(
            _("Payment %(pay)s is %(status)s; only received money can be applied."),
            code="payment_not_succeeded",
            params={"pay": payment.number, "status": payment.get_status_display().lower()},
        )
    if requested > payment.unallocated:
        raise ValidationError(
            _("Payment %(pay)s has %(left)s %(cur)s left to apply; %(asked)s was requested."),
            code="exceeds_payment",
            params={
                "pay": payment.number,
                "left": payment.unallocated,
                "cur": payment.currency,
                "asked": requested,
            },
        )
    invoices = lock_invoices(allocations)
    check_targets(
        payer=payment.customer,
        currency=payment.currency,
        applications=allocations,
        invoices=invoices,
        regular_only=False,
    )
    _check_dates(payment, invoices, applied_on, confirm_early_date)
    _settle(invoices, allocations)
    payment.unallocated -= requested
    payment.save(update_fields=["unallocated"])
    return write_applications(Allocation, source_field="payment", source=payment, invoices=invoices,
                              applications=allocations, applied_on=applied_on)


@ledger_action()
def record_payment(
    *,
    customer: Customer,
    amount: Decimal,
    paid_on: date,
    method: str,
    reference: str = "",
    allocations: Mapping[int, Decimal] | None = None,
    notes: str = "",
    recorded_by=None,
    status: str = Payment.Status.SUCCEEDED,
    gateway: str = "",
    gateway_payment_id: str | None = None,
    confirm_early_date: bool = False,
) -> Payment:
    """Record money received from `customer` (the payer) and apply it to invoices, all or nothing.

    `allocations` maps invoice id -> amount (the payer's own invoices or a branch's open to it),
    applied on the payment's date; what is not allocated stays on the payment as available
    credit. A payment dated before the issue date of an invoice it pays is refused
    (dated_before_invoice) unless staff pass `confirm_early_date=True`. Raises ValidationError
    (bad_amount, exceeds_payment, not_payable, currency_mismatch, invoice_not_open,
    exceeds_invoice, payment_not_succeeded, dated_before_invoice) and then writes nothing.
    """
    check_amount(amount, customer.currency)
    payment = Payment(
        customer=customer,
        number=next_document_number(kind=DocumentSequence.Kind.PAYMENT),
        currency=customer.currency,
        amount=amount,
        unallocated=amount,
        paid_on=paid_on,
        method=method,
        reference=reference,
        status=status,
        notes=notes,
        recorded_by=recorded_by,
        gateway=gateway,
        gateway_payment_id=gateway_payment_id,
    )
    payment.full_clean()
    payment.save()
    if allocations:
        _allocate(payment, allocations, paid_on, confirm_early_date)
    return payment


@ledger_action()
def allocate_payment(
    *,
    payment: Payment,
    allocations: Mapping[int, Decimal],
    applied_on: date | None = None,
    confirm_early_date: bool = False,
) -> list[Allocation]:
    """Apply part of a payment's unallocated amount to open invoices, all or nothing.

    `allocations` maps invoice id -> amount. Payment locked first, then invoices in id order:
    concurrent payments over the same invoices queue up instead of over-paying or deadlocking.
    An `applied_on` before an invoice's issue date is refused (dated_before_invoice) unless
    `confirm_early_date`; without `applied_on` the allocation is dated today and not checked.
    Raises ValidationError fit to show the payer (see `record_payment`).
    """
    payment = Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=payment.pk)
    return _allocate(payment, allocations, applied_on, confirm_early_date)


@ledger_action()
def allocate_oldest_first(
    *,
    payment: Payment,
    customers: QuerySet[Customer] | None = None,
    applied_on: date | None = None,
    confirm_early_date: bool = False,
) -> list[Allocation]:
    """ "Pay all outstanding": spread the payment's unallocated amount over open regular invoices,
    oldest due date first, until the money or the invoices run out.

    Invoices of the payer and of branches open to it (narrowed to `customers` if given), in the
    payment's currency. Returns the allocations made (none when nothing is open). Dates are
    checked as in `allocate_payment`.
    """
    payment = Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=payment.pk)
    if payment.unallocated <= 0:
        raise ValidationError(
            _("Payment %(pay)s has nothing left to apply."),
            code="exceeds_payment",
            params={"pay": payment.number},
        )
    candidates = (
        Invoice.objects.open()
        .regular()
        .filter(customer__in=customers_under(customer_id=payment.customer_id), currency=payment.currency)
    )
    if customers is not None:
        candidates = candidates.filter(customer__in=customers)
    invoices = lock_invoices(candidates.values_list("pk", flat=True))
    left, plan = payment.unallocated, {}
    for invoice in sorted(invoices.values(), key=lambda i: (i.due_on, i.issued_on, i.pk)):
        if left <= 0:
            break
        if not invoice.is_open:  # paid by someone else while we waited for the lock
            continue
        plan[invoice.pk] = min(left, invoice.balance_due)
        left -= plan[invoice.pk]
    if not plan:
        return []
    return _allocate(payment, plan, applied_on, confirm_early_date)
