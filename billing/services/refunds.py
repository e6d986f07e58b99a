"""Refunds: money paid back from a payment, a credit note or an unused retainer."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Allocation, AllocationReversal, CreditNote, Invoice, Payment, Refund
from billing.money import ZERO
from billing.selectors.customers import customers_under

from ._targets import check_amount, lock_invoices
from .account_totals import ledger_action


@ledger_action()
def refund_payment(
    *,
    payment: Payment,
    amount: Decimal,
    refunded_on: date | None = None,
    method: str | None = None,
    reference: str = "",
    gateway_refund_id: str | None = None,
    reverse_allocations: bool = True,
    status: str = Refund.Status.SUCCEEDED,
) -> Refund:
    """Pay back part or all of a payment.

    The unallocated excess is refunded first; beyond it (with `reverse_allocations`, the
    default, as for a gateway refund) the payment's allocations are reversed newest first and
    their invoices owe again (AllocationReversal rows; allocations are never edited). A payment
    refunded in full becomes "refunded". Safe to repeat with the same `gateway_refund_id`: the
    existing refund is returned. Locks: payment, then invoices in id order.

    `status` is the gateway refund's: pending counts as made (as Stripe's dashboard shows it); a
    failed or canceled refund the ledger never had is only kept as such (it moves no money and counts
    nowhere), so that a late "pending" report of it cannot count it.
    Raises ValidationError: bad_amount, payment_not_succeeded, exceeds_refundable,
    exceeds_unallocated (reverse_allocations=False), retainer_already_applied.
    """
    if gateway_refund_id:
        existing = Refund.objects.filter(gateway_refund_id=gateway_refund_id).first()
        if existing is not None:
            return existing
    payment = Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=payment.pk)
    check_amount(amount, payment.currency)
    refund = Refund(
        customer=payment.customer,
        payment=payment,
        currency=payment.currency,
        amount=amount,
        refunded_on=refunded_on or timezone.localdate(),
        method=method or payment.method,
        reference=reference,
        gateway_refund_id=gateway_refund_id,
        status=status,
    )
    if status not in Refund.COUNTED:
        refund.save()
        return refund
    if payment.status != Payment.Status.SUCCEEDED:
        raise ValidationError(
            _("Payment %(pay)s is %(status)s; only received money can be refunded."),
            code="payment_not_succeeded",
            params={"pay": payment.number, "status": payment.get_status_display().lower()},
        )
    refundable = payment.amount - payment.refunded_amount
    if amount > refundable:
        raise ValidationError(
            _("Payment %(pay)s has %(left)s %(cur)s left to refund; %(asked)s was requested."),
            code="exceeds_refundable",
            params={"pay": payment.number, "left": refundable, "cur": payment.currency, "asked": amount},
        )
    if not reverse_allocations and amount > payment.unallocated:
        raise ValidationError(
            _(
                "Payment %(pay)s has %(left)s %(cur)s not applied to invoices; %(asked)s was requested. "
                "Refund at most the unapplied amount."
            ),
            code="exceeds_unallocated",
            params={
                "pay": payment.number,
                "left": payment.unallocated,
                "cur": payment.currency,
                "asked": amount,
            },
        )
    from_excess = min(payment.unallocated, amount)
    to_reverse = amount - from_excess
    refund.save()
    if to_reverse > 0:
        _reverse_allocations(payment, refund, to_reverse)
    payment.unallocated -= from_excess
    payment.refunded_amount += amount
    if payment.refunded_amount == payment.amount:
        payment.status = Payment.Status.REFUNDED
    payment.save(update_fields=["unallocated", "refunded_amount", "status"])
    return refund


def _reverse_allocations(payment: Payment, refund: Refund, to_reverse: Decimal) -> None:
    allocations = list(
        payment.allocations.annotate(reversed_total=Sum("reversals__amount", default=ZERO))
        .annotate(net=F("amount") - F("reversed_total"))
        .filter(net__gt=0)
        .order_by("-pk")
    )
    invoices = lock_invoices({a.invoice_id for a in allocations})
    reversals = []
    for allocation in allocations:
        if to_reverse <= 0:
            break
        invoice = invoices[allocation.invoice_id]
        take = min(allocation.net, to_reverse)
        if invoice.is_retainer:
            if take > invoice.retainer_unused:
                raise ValidationError(
                    _(
                        "%(pay)s paid retainer %(ret)s, and only %(left)s %(cur)s of it is still unused; "
                        "the rest was applied to invoices. Reverse less, or refund the retainer instead."
                    ),
                    code="retainer_already_applied",
                    params={
                        "pay": payment.number,
                        "ret": invoice.number,
                        "left": invoice.retainer_unused,
                        "cur": payment.currency,
                    },
                )
            invoice.retainer_unused -= take
        invoice.reopen(take)
        reversals.append(
            AllocationReversal(
                allocation=allocation,
                refund=refund,
                amount=take,
                reversed_on=refund.refunded_on,
                payer_customer_id=allocation.payer_customer_id,
                invoice_customer_id=allocation.invoice_customer_id,
            )
        )
        to_reverse -= take
    Invoice.objects.bulk_update(list(invoices.values()), ["balance_due", "status", "retainer_unused"])
    AllocationReversal.objects.bulk_create(reversals)


@ledger_action()
def cancel_refund(*, refund: Refund, status: str = Refund.Status.CANCELED) -> list[Allocation]:
    """The money of a payment's refund came back: the gateway's refund failed or was canceled, or a
    dispute it held was won. Undo the refund's effect, once.

    The refund stops counting (its status says why; it stays for the history, off statements and
    sums), the payment's refunded amount goes down (a fully refunded payment is succeeded again), and
    what the refund took off invoices is applied again to the same invoices where they still owe, as
    new allocations; the rest stays on the payment as unallocated credit. Safe to repeat: a refund
    already failed or canceled changes nothing. Locks: payment, refund, then invoices in id order.
    Returns the new allocations. Raises ValidationError: not_a_payment_refund.
    """
    from .payments import allocate_payment  # the ledger's one allocation path

    if status not in (Refund.Status.FAILED, Refund.Status.CANCELED):
        raise ValueError(f"cancel_refund: status must be failed or canceled, not {status!r}")
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund.pk)
    if payment_id is None:
        raise ValidationError(
            _("Only the refund of a payment can be canceled this way."), code="not_a_payment_refund"
        )
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment_id)
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if not refund.counts:
        return []
    reversed_per_invoice = dict(
        refund.allocation_reversals.order_by()
        .values("allocation__invoice_id")
        .annotate(s=Sum("amount"))
        .values_list("allocation__invoice_id", "s")
    )
    refund.status = status
    refund.save(update_fields=["status"])
    payment.unallocated += refund.amount  # the whole refund is back on the payment, then applied again
    payment.refunded_amount -= refund.amount
    if payment.status == Payment.Status.REFUNDED:
        payment.status = Payment.Status.SUCCEEDED
    payment.save(update_fields=["unallocated", "refunded_amount", "status"])
    # Only invoices the payer may still pay, still open and in its currency (a voided or since-paid
    # invoice keeps its state; that share stays as credit).
    payable = Invoice.objects.filter(
        pk__in=list(reversed_per_invoice),
        customer__in=customers_under(customer_id=payment.customer_id),
        currency=payment.currency,
    )
    invoices = lock_invoices(payable.values_list("pk", flat=True))
    plan = {
        pk: min(reversed_per_invoice[pk], invoice.balance_due)
        for pk, invoice in invoices.items()
        if invoice.is_open
    }
    plan = {pk: amount for pk, amount in plan.items() if amount > 0}
    if not plan:
        return []
    return allocate_payment(payment=payment, allocations=plan)


@ledger_action()
def refund_credit_note(
    *,
    credit_note: CreditNote,
    amount: Decimal,
    refunded_on: date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> Refund:
    """Pay back open credit of a credit note; the note closes when nothing is left.

    Raises ValidationError: bad_amount, credit_not_open, exceeds_credit.
    """
    note = CreditNote.objects.select_for_update().get(pk=credit_note.pk)
    check_amount(amount, note.currency)
    if note.status != CreditNote.Status.OPEN:
        raise ValidationError(
            _("Credit note %(cn)s is %(status)s."),
            code="credit_not_open",
            params={"cn": note.number, "status": note.get_status_display().lower()},
        )
    if amount > note.balance:
        raise ValidationError(
            _("Credit note %(cn)s has %(left)s %(cur)s left; %(asked)s can't be refunded."),
            code="exceeds_credit",
            params={"cn": note.number, "left": note.balance, "cur": note.currency, "asked": amount},
        )
    note.balance -= amount
    if note.balance == 0:
        note.status = CreditNote.Status.CLOSED
    note.save(update_fields=["balance", "status"])
    return Refund.objects.create(
        customer_id=note.customer_id,
        credit_note=note,
        currency=note.currency,
        amount=amount,
        refunded_on=refunded_on or timezone.localdate(),
        method=method,
        reference=reference,
    )


@ledger_action()
def refund_retainer(
    *,
    retainer: Invoice,
    amount: Decimal,
    refunded_on: date | None = None,
    method: str = Payment.Method.BANK_TRANSFER,
    reference: str = "",
) -> Refund:
    """Pay back the unused part of a paid retainer.

    Raises ValidationError: bad_amount, not_a_retainer, exceeds_retainer.
    """
    retainer = Invoice.objects.select_for_update().get(pk=retainer.pk)
    check_amount(amount, retainer.currency)
    if not retainer.is_retainer:
        raise ValidationError(
            _("%(inv)s is not a retainer invoice."), code="not_a_retainer", params={"inv": retainer.number}
        )
    if amount > retainer.retainer_unused:
        raise ValidationError(
            _("Retainer %(ret)s has %(left)s %(cur)s paid and unused; %(asked)s can't be refunded."),
            code="exceeds_retainer",
            params={
                "ret": retainer.number,
                "left": retainer.retainer_unused,
                "cur": retainer.currency,
                "asked": amount,
            },
        )
    retainer.retainer_unused -= amount
    retainer.save(update_fields=["retainer_unused", "updated_at"])
    return Refund.objects.create(
        customer_id=retainer.customer_id,
        retainer=retainer,
        currency=retainer.currency,
        amount=amount,
        refunded_on=refunded_on or timezone.localdate(),
        method=method,
        reference=reference,
    )
