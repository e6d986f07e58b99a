"""Payments as the portal shows them (the list with each payment's kind, the receipt) and the reads of
Pay Now's checkout: attempts of the visible payers, their lines, the payer's saved payment methods."""

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from billing.models import Allocation, CheckoutAttempt, CheckoutLine, Payment, SavedPaymentMethod
from billing.money import ZERO
from billing.selectors.balances import allocations_net_of_refunds, held_by_disputes
from billing.selectors.balances import last_payment as last_payment_of

from .scope import PortalScope


def visible_payments(*, scope: PortalScope) -> QuerySet[Payment]:
    """Payments received or in progress; failed attempts are not payments made."""
    return Payment.objects.filter(scope.customer_filter()).exclude(status=Payment.Status.FAILED)


def payments_with_kind(*, scope: PortalScope) -> QuerySet[Payment]:
    """`visible_payments` with the customer joined and two flags for the list's kind filter and column:
    `pays_retainer` and `pays_invoice` (a payment may be applied to both)."""
    paid_retainer = Allocation.objects.filter(payment=OuterRef("pk"), invoice__is_retainer=True)
    paid_invoice = Allocation.objects.filter(payment=OuterRef("pk"), invoice__is_retainer=False)
    return (
        visible_payments(scope=scope)
        .select_related("customer")
        .annotate(pays_retainer=Exists(paid_retainer), pays_invoice=Exists(paid_invoice))
    )


def last_payment(*, scope: PortalScope) -> Payment | None:
    """The most recent succeeded payment of any visible account, with its allocations (home's Last payment)."""
    return last_payment_of(customers=scope.customers)


def payment_receipt(*, scope: PortalScope, payment_id: int) -> Payment | None:
    """The payment with its allocations net of refunds and `applied` (their sum), `disputed_amount` and
    `refunded_only`: the receipt's applied, refunded, disputed and unapplied amounts add up to the amount
    received. None when it is not visible."""
    payment = (
        visible_payments(scope=scope)
        .select_related("customer")
        .prefetch_related(
            Prefetch("allocations", queryset=allocations_net_of_refunds().select_related("invoice__customer"))
        )
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        return None
    payment.applied = sum((a.net_amount for a in payment.allocations.all()), ZERO)
    # Money a card dispute holds is a refund-like row in the ledger; the customer reads it as disputed.
    payment.disputed_amount = held_by_disputes(payment=payment)
    payment.refunded_only = payment.refunded_amount - payment.disputed_amount
    return payment


def checkout_attempt(*, scope: PortalScope, token) -> CheckoutAttempt | None:
    """A checkout attempt whose payer is visible, with its payer, saved method and payment joined."""
    return (
        CheckoutAttempt.objects.select_related("payer", "saved_method", "payment")
        .filter(scope.customer_filter("payer"), token=token)
        .first()
    )


def checkout_lines(*, attempt: CheckoutAttempt) -> QuerySet[CheckoutLine]:
    """What the attempt pays, invoice by invoice (the invoice and its customer joined)."""
    return attempt.lines.select_related("invoice__customer")


def checkout_allocations(*, attempt: CheckoutAttempt) -> list[Allocation]:
    """How the attempt's payment was applied (none before it is recorded)."""
    if not attempt.payment_id:
        return []
    return list(
        Allocation.objects.filter(payment_id=attempt.payment_id).select_related("invoice__customer").order_by("pk")
    )


def saved_payment_methods(*, scope: PortalScope, gateway: str | None = None) -> QuerySet[SavedPaymentMethod]:
    """The payer's saved cards and bank accounts (of one gateway with `gateway`). The payer is the contact's
    own customer: a branch's saved methods are the branch's to use."""
    methods = SavedPaymentMethod.objects.filter(customer=scope.own)
    return methods if gateway is None else methods.filter(gateway=gateway)
