"""Card disputes (chargebacks): the payer's bank takes the money back until the dispute is decided.

While the gateway holds the disputed money, so does the ledger: a refund-like row (`Dispute.hold`,
reference "Dispute du_…") takes it off the payment, reversing its allocations newest first as a
refund does, so the invoices are open again and statements, balances and `check_ledger` read it
like any refund. A won dispute cancels that row (`cancel_refund`): the money is applied again where
the invoices still owe, the rest stays on the payment as credit. A lost one keeps it off.
"""

import logging

from django.utils import timezone

from billing.gateways import DisputeInfo
from billing.models import Dispute, Payment
from billing.money import quantize

from .account_totals import ledger_action
from .refunds import cancel_refund, refund_payment

logger = logging.getLogger(__name__)


def _day(moment):
    return timezone.localdate(moment) if moment is not None else timezone.localdate()


@ledger_action()
def record_dispute(*, payment: Payment, info: DisputeInfo, gateway: str) -> str:
    """Bring our Dispute of `payment`, and the money it holds, to where the gateway says it stands.

    Safe to repeat and to run in any order: a dispute only moves to a higher rank (Dispute.RANK), so
    a late "created" never reopens a closed one, and the hold is taken or released from the resulting
    status alone. Returns the outcome for the event row; an "ignored: …" outcome wrote nothing
    (a dispute of another payment, in another currency, or above the payment). Locks: payment, dispute.
    """
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
    if info.status not in Dispute.RANK:
        return f"ignored: dispute {info.id} has an unknown status {info.status!r}"
    if info.currency != payment.currency or info.amount <= 0 or info.amount > payment.amount:
        return (
            f"ignored: dispute {info.id} of {info.amount} {info.currency} does not fit payment "
            f"{payment.number} ({payment.amount} {payment.currency})"
        )
    dispute = (
        Dispute.objects.select_for_update(of=("self",)).select_related("hold").filter(gateway_dispute_id=info.id).first()
    )
    if dispute is not None and dispute.payment_id != payment.pk:
        return f"ignored: dispute {info.id} is recorded on another payment"
    stale = dispute is not None and (
        Dispute.RANK[info.status] < Dispute.RANK[dispute.status]
        or (dispute.status in Dispute.CLOSED and info.status != dispute.status)  # decided once
    )
    if dispute is None:
        dispute = Dispute(
            payment=payment,
            gateway=gateway,
            gateway_dispute_id=info.id,
            amount=info.amount,
            currency=info.currency,
            status=info.status,
            opened_on=_day(info.opened_at),
        )
    if stale:
        outcome = f"dispute {info.id} is {dispute.status} already: unchanged"
    else:
        outcome = f"dispute {info.id} {info.status}"
        dispute.status = info.status
        dispute.reason = info.reason[:60]
        dispute.evidence_due_by = info.evidence_due_by
        dispute.fee = quantize(info.fee, payment.currency)
        if info.status in Dispute.CLOSED and dispute.closed_on is None:
            dispute.closed_on = timezone.localdate()
            dispute.outcome = info.status
    dispute.save()

    holding = dispute.hold is not None and dispute.hold.counts
    if dispute.status in Dispute.HOLDING and dispute.hold is None:
        left = payment.amount - payment.refunded_amount
        if dispute.amount > left:
            logger.warning("Dispute %s: %s is above the %s left on %s; nothing held", info.id, dispute.amount,
                           left, payment.number)
            outcome += f"; nothing held: only {left} {payment.currency} left on the payment"
        else:
            dispute.hold = refund_payment(
                payment=payment,
                amount=dispute.amount,
                method=payment.method,
                reference=f"Dispute {info.id}",
            )
            dispute.save(update_fields=["hold", "updated_at"])
            outcome += f"; {dispute.amount} {payment.currency} held"
    elif dispute.status not in Dispute.HOLDING and holding:
        cancel_refund(refund=dispute.hold)
        outcome += f"; {dispute.amount} {payment.currency} given back"
    disputed = payment.disputes.filter(status__in=Dispute.HOLDING).exists()
    Payment.objects.filter(pk=payment.pk).update(disputed=disputed)
    return outcome
