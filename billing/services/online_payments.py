"""Online payments: a payer's checkout, the gateway's events, and refunds through the gateway.

The ledger learns of money only from the gateway itself: a verified webhook, a sandbox event,
or a server-side answer (confirm / retrieve). A browser redirect alone records nothing.

Lock order everywhere: checkout attempt, then invoices by id, then payment. Concurrent pays of
the same invoices queue on the invoice rows; events for one intent queue on the attempt row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways import (
    EventKind,
    Gateway,
    GatewayError,
    Intent,
    PaymentDeclined,
    PaymentEvent,
    RefundInfo,
    SetupResult,
    WebhookEvent,
    get_gateway,
)
from billing.models import (
    CheckoutAttempt,
    CheckoutLine,
    Customer,
    GatewayCustomer,
    GatewayEvent,
    Invoice,
    Payment,
    Refund,
    SavedPaymentMethod,
)
from billing.money import ZERO, format_money, is_whole_minor_units
from billing.selectors import customers_under
from billing.services._targets import check_applications, check_targets, lock_invoices
from billing.services.account_totals import ledger_action

logger = logging.getLogger(__name__)

ONLINE_METHODS = (Payment.Method.CARD, Payment.Method.ACH)
_TARGET = {
    "processing": CheckoutAttempt.Status.PROCESSING,
    "succeeded": CheckoutAttempt.Status.SUCCEEDED,
    "canceled": CheckoutAttempt.Status.CANCELED,
}


# Checkout ---------------------------------------------------------------------------------------


def _refuse(message, code, **params):
    raise ValidationError(message, code=code, params=params or None)


def _checked_lines(*, payer: Customer, allocations: Mapping[int, Decimal], currency: str) -> list[Invoice]:
    """Lock the asked invoices (id order) and apply the ledger's payer rule plus the portal's own.

    The ledger's rule (billing.services._targets) covers amounts, currency, draft/void and the
    balance; on top a portal payment needs the invoice open, in full unless partial payments are
    allowed, and not already being paid by a processing bank debit. Caller is atomic.
    """
    check_applications(allocations, currency)
    if currency != payer.currency:
        _refuse(
            _("This account pays in %(cur)s; the payment was asked in %(asked)s."),
            "wrong_currency",
            cur=payer.currency,
            asked=currency,
        )
    # Only the payer's tree is even looked at, so a foreign id gets the same answer as a missing one
    # (the ledger's own message would name the other company).
    visible = Invoice.objects.filter(pk__in=list(allocations), customer__in=customers_under(customer_id=payer.pk))
    invoices = lock_invoices(visible.values_list("pk", flat=True))
    if len(invoices) != len(allocations):
        _refuse(_("One of these invoices can't be paid from this account."), "not_payable")
    check_targets(payer=payer, currency=currency, applications=allocations, invoices=invoices, regular_only=False)
    processing = set(
        CheckoutLine.objects.processing().filter(invoice__in=invoices).values_list("invoice__number", flat=True)
    )
    if processing:
        _refuse(
            _("A payment for invoice %(inv)s is still processing; it can be paid again only if that fails."),
            "payment_processing",
            inv=", ".join(sorted(processing)),
        )
    for invoice in invoices.values():
        amount = allocations[invoice.pk]
        if not invoice.is_open:
            _refuse(
                _("Invoice %(inv)s is %(status)s; there is nothing left to pay."),
                "not_open",
                inv=invoice.number,
                status=invoice.get_status_display().lower(),
            )
        if amount < invoice.balance_due and not invoice.allow_partial_payments:
            _refuse(
                _("Invoice %(inv)s must be paid in full: %(due)s %(cur)s."),
                "partial_not_allowed",
                inv=invoice.number,
                due=invoice.balance_due,
                cur=currency,
            )
    return [invoices[pk] for pk in sorted(invoices)]


def start_checkout(
    *,
    payer: Customer,
    allocations: Mapping[int, Decimal],
    currency: str,
    method: str,
    started_by=None,
    saved_method: SavedPaymentMethod | None = None,
    save_method: bool = False,
    gateway: Gateway | None = None,
) -> CheckoutAttempt:
    """Start (or resume) paying these amounts on these invoices; returns the attempt with its gateway intent.

    All rules are checked with the invoices locked before anything is written or the gateway is
    called. The same person (`started_by`) asking for the same thing again (double click, reload,
    20 tabs) gets the same open attempt and so the same PaymentIntent: one idempotency key per
    attempt. Another contact of the payer gets a checkout of their own (their own choice of card or
    bank account), unless someone else's payment of one of these invoices was already sent to the
    gateway and not answered yet (being_paid) or is processing (payment_processing).
    Raises ValidationError (shown to the payer) or GatewayError.
    """
    gateway = gateway or get_gateway()
    if method not in ONLINE_METHODS:
        _refuse(_("Choose card or bank account (ACH)."), "bad_method")
    if method == Payment.Method.ACH and not payer.allow_ach:
        _refuse(_("Paying by bank account (ACH) is not enabled for this account."), "ach_not_allowed")
    if saved_method is not None and (
        saved_method.customer_id != payer.pk
        or saved_method.payment_method != method
        or saved_method.gateway != gateway.name
    ):
        _refuse(_("That saved payment method can't be used here."), "bad_saved_method")
    wanted = {int(k): v for k, v in allocations.items()}
    with transaction.atomic():
        invoices = _checked_lines(payer=payer, allocations=wanted, currency=currency)
        # Under the invoices' locks: a confirmation in flight holds them too, so it is seen here.
        busy = (
            CheckoutLine.objects.filter(
                invoice__in=invoices,
                attempt__status=CheckoutAttempt.Status.OPEN,
                attempt__confirmed_at__gte=timezone.now() - timezone.timedelta(hours=1),
            )
            .exclude(attempt__started_by=started_by)
            .select_related("invoice", "attempt__started_by__contact")
            .order_by("invoice__number")
            .first()
        )
        if busy is not None:
            by = busy.attempt.started_by
            contact = getattr(by, "contact", None)
            name = contact.full_name if contact else (by.get_full_name() or by.email) if by else ""
            _refuse(
                _("Invoice %(inv)s is already being paid by %(name)s."),
                "being_paid",
                inv=busy.invoice.number,
                name=name or _("someone else"),
            )
        total = sum(wanted.values(), ZERO)
        attempt = _reusable_attempt(
            payer=payer,
            wanted=wanted,
            method=method,
            saved_method=saved_method,
            gateway=gateway,
            started_by=started_by,
        )
        if attempt is None:
            attempt = CheckoutAttempt.objects.create(
                payer=payer,
                started_by=started_by,
                amount=total,
                currency=currency,
                method=method,
                saved_method=saved_method,
                save_method=bool(save_method) and saved_method is None,
                idempotency_key=f"checkout-{uuid.uuid4()}",
                gateway=gateway.name,
            )
            CheckoutLine.objects.bulk_create(
                [CheckoutLine(attempt=attempt, invoice=inv, amount=wanted[inv.pk]) for inv in invoices]
            )
    if not attempt.gateway_intent_id:
        _create_intent(attempt=attempt, gateway=gateway)
    return attempt


def _reusable_attempt(*, payer, wanted, method, saved_method, gateway, started_by) -> CheckoutAttempt | None:
    """An unconfirmed attempt by this payer and this person for exactly these amounts, method and gateway.

    Never another contact's: two people paying the same invoices each choose their own card or
    bank account, on an intent of their own."""
    candidates = (
        CheckoutAttempt.objects.filter(
            payer=payer,
            started_by=started_by,
            status=CheckoutAttempt.Status.OPEN,
            method=method,
            saved_method=saved_method,
            gateway=gateway.name,
            confirmed_at__isnull=True,
            created_at__gte=timezone.now() - timezone.timedelta(hours=12),
        )
        .prefetch_related("lines")
        .order_by("-pk")[:5]
    )
    for attempt in candidates:
        if {line.invoice_id: line.amount for line in attempt.lines.all()} == wanted:
            return attempt
    return None


def _gateway_customer_id(*, customer: Customer, gateway: Gateway) -> str:
    link = GatewayCustomer.objects.filter(customer=customer, gateway=gateway.name).first()
    if link is not None:
        return link.gateway_customer_id
    gateway_id = gateway.create_customer(
        email=customer.email, name=customer.display_name, metadata={"customer_id": str(customer.pk)}
    )
    link, _created = GatewayCustomer.objects.get_or_create(
        customer=customer, gateway=gateway.name, defaults={"gateway_customer_id": gateway_id}
    )
    return link.gateway_customer_id


def _create_intent(*, attempt: CheckoutAttempt, gateway: Gateway) -> None:
    """Ask the gateway for the PaymentIntent. The attempt's key makes a repeat return the same intent."""
    customer_id = ""
    if attempt.save_method or attempt.saved_method_id:
        customer_id = (
            attempt.saved_method.gateway_customer_id
            if attempt.saved_method_id
            else _gateway_customer_id(customer=attempt.payer, gateway=gateway)
        )
    intent = gateway.create_payment_intent(
        amount=attempt.amount,
        currency=attempt.currency,
        method_kind=attempt.gateway_method_kind,
        idempotency_key=attempt.idempotency_key,
        customer_id=customer_id,
        payment_method_id=attempt.saved_method.gateway_method_id if attempt.saved_method_id else "",
        metadata={"checkout": str(attempt.token), "payer": str(attempt.payer_id)},
    )
    CheckoutAttempt.objects.filter(pk=attempt.pk, gateway_intent_id__isnull=True).update(
        gateway_intent_id=intent.id, client_secret=intent.client_secret
    )
    attempt.refresh_from_db(fields=["gateway_intent_id", "client_secret"])


def confirm_checkout(
    *, attempt: CheckoutAttempt, payment_method_id: str = "", gateway: Gateway | None = None
) -> CheckoutAttempt:
    """Confirm the attempt's intent server-side (a saved method, or the sandbox form) and apply the answer.

    Safe to repeat: the attempt row is locked, and once it is past "open" a repeat changes nothing.
    The invoices are checked again first, so an invoice paid since the page opened is not paid twice.
    Raises ValidationError, PaymentDeclined (the attempt stays open to try another method) or GatewayError.
    """
    gateway = gateway or get_gateway(attempt.gateway)
    declined = None
    with ledger_action():
        attempt = CheckoutAttempt.objects.select_for_update().get(pk=attempt.pk)
        if attempt.status != CheckoutAttempt.Status.OPEN:
            return attempt
        lines = list(attempt.lines.all())
        _checked_lines(
            payer=attempt.payer,
            allocations={ln.invoice_id: ln.amount for ln in lines},
            currency=attempt.currency,
        )
        pm = payment_method_id or (attempt.saved_method.gateway_method_id if attempt.saved_method_id else "")
        if not pm:
            _refuse(_("Choose how to pay."), "no_method")
        if attempt.save_method and payment_method_id:
            # Kept only once the payment with it succeeds (_move): a declined card is never saved.
            attempt.method_to_save = payment_method_id
        attempt.confirmed_at = timezone.now()
        try:
            intent = gateway.confirm_payment_intent(
                attempt.gateway_intent_id,
                payment_method_id=payment_method_id,  # a saved method is on the intent already
                idempotency_key=f"{attempt.idempotency_key}-confirm-{pm}",
            )
        except PaymentDeclined as exc:
            declined = exc
            attempt.failure_reason = exc.reason[:255]
            attempt.confirmed_at = None  # the payer may try another card on the same intent
            attempt.method_to_save = ""
            attempt.save(update_fields=["failure_reason", "confirmed_at", "method_to_save", "updated_at"])
        else:
            attempt.failure_reason = ""
            attempt.save(update_fields=["failure_reason", "confirmed_at", "method_to_save", "updated_at"])
            _apply_intent(attempt=attempt, intent=intent)
    deliver_sandbox_events(gateway=gateway)
    if declined is not None:
        raise declined
    attempt.refresh_from_db()
    return attempt


def save_method_after_success(*, attempt_id: int) -> SavedPaymentMethod | None:
    """Keep the method a payer asked to save, now that the payment with it succeeded. After commit.

    A card is saved when its payment succeeds; a bank account (ACH) when its debit settles, not while it
    is processing: a returned debit never leaves a saved method behind. A method already attached to the
    payer's gateway customer (Stripe.js confirmed a SetupIntent) is only remembered; otherwise it is
    attached through a SetupIntent (works on Stripe and localstripe). Safe to repeat.
    """
    attempt = CheckoutAttempt.objects.select_related("payer", "started_by").filter(pk=attempt_id).first()
    if attempt is None or attempt.status != CheckoutAttempt.Status.SUCCEEDED or not attempt.method_to_save:
        return None
    method_id = attempt.method_to_save
    saved = SavedPaymentMethod.objects.filter(gateway_method_id=method_id).first()
    if saved is not None:
        return saved
    gateway = get_gateway(attempt.gateway)
    kind = attempt.gateway_method_kind
    try:
        customer_id = _gateway_customer_id(customer=attempt.payer, gateway=gateway)
        if method_id not in {m.id for m in gateway.list_payment_methods(customer_id=customer_id, kind=kind)}:
            gateway.create_setup_intent(
                customer_id=customer_id, method_kind=kind, payment_method_id=method_id, confirm=True
            )
    except GatewayError as exc:
        # The payment stands; only the convenience is lost. The payer can save the method next time.
        logger.warning("Checkout %s: the payment method was not saved: %s", attempt.pk, exc.reason)
        return None
    return _remember_method(
        customer=attempt.payer,
        customer_id=customer_id,
        method_id=method_id,
        gateway=gateway,
        saved_by=attempt.started_by,
    )


def _remember_method(*, customer, customer_id, method_id, gateway, saved_by) -> SavedPaymentMethod:
    details = gateway.retrieve_payment_method(method_id)
    saved, _created = SavedPaymentMethod.objects.get_or_create(
        gateway_method_id=method_id,
        defaults=dict(
            customer=customer,
            gateway=gateway.name,
            gateway_customer_id=customer_id,
            kind=details.kind,
            brand=details.brand,
            last4=details.last4,
            exp_month=details.exp_month,
            exp_year=details.exp_year,
            saved_by=saved_by,
        ),
    )
    return saved


def begin_saving_method(*, attempt: CheckoutAttempt, gateway: Gateway | None = None) -> SetupResult:
    """A SetupIntent for the payer's gateway customer, for Stripe.js to confirm when the payer opted to save.

    Saving goes through a SetupIntent (not setup_future_usage): the method is stored first, then
    the payment is confirmed server-side with it (`pay_with_saved_setup`).
    """
    gateway = gateway or get_gateway(attempt.gateway)
    customer_id = _gateway_customer_id(customer=attempt.payer, gateway=gateway)
    return gateway.create_setup_intent(
        customer_id=customer_id,
        method_kind=attempt.gateway_method_kind,
        idempotency_key=f"{attempt.idempotency_key}-setup",  # a reload gets the same SetupIntent
    )


def pay_with_saved_setup(
    *, attempt: CheckoutAttempt, setup_intent_id: str, gateway: Gateway | None = None
) -> CheckoutAttempt:
    """After Stripe.js confirmed the SetupIntent: check it server-side, pay with the method, keep it if paid.

    Raises ValidationError when the SetupIntent is not this payer's or did not succeed; otherwise
    what confirm_checkout raises.
    """
    gateway = gateway or get_gateway(attempt.gateway)
    setup = gateway.retrieve_setup_intent(setup_intent_id)
    customer_id = _gateway_customer_id(customer=attempt.payer, gateway=gateway)
    if setup.customer_id != customer_id or setup.status != "succeeded" or not setup.payment_method_id:
        _refuse(_("The payment method was not saved; please enter it again."), "setup_not_succeeded")
    # Remembered once the payment succeeds (confirm_checkout sets method_to_save), never on a decline.
    return confirm_checkout(attempt=attempt, payment_method_id=setup.payment_method_id, gateway=gateway)


def refresh_checkout(*, attempt: CheckoutAttempt, gateway: Gateway | None = None) -> CheckoutAttempt:
    """Ask the gateway (server-side) where the intent stands and apply it: the return page's check."""
    gateway = gateway or get_gateway(attempt.gateway)
    if attempt.gateway_intent_id and attempt.status in (
        CheckoutAttempt.Status.OPEN,
        CheckoutAttempt.Status.PROCESSING,
    ):
        intent = gateway.retrieve_payment_intent(attempt.gateway_intent_id)
        with ledger_action():
            locked = CheckoutAttempt.objects.select_for_update().get(pk=attempt.pk)
            _apply_intent(attempt=locked, intent=intent)
    attempt.refresh_from_db()
    return attempt


# Applying what the gateway says ---------------------------------------------------------------


def _apply_intent(*, attempt: CheckoutAttempt, intent: Intent) -> str:
    """Move a locked attempt (and its payment) to where the intent is, only forward; return an outcome."""
    if intent.id != attempt.gateway_intent_id:
        return "intent does not belong to this checkout"
    if intent.amount != attempt.amount or intent.currency != attempt.currency:
        if attempt.status == CheckoutAttempt.Status.SUCCEEDED:
            return "amount mismatch ignored: already paid"
        reason = _("The gateway reported %(got)s %(gcur)s; %(asked)s %(cur)s was asked. Nothing was recorded.") % {
            "got": intent.amount,
            "gcur": intent.currency,
            "asked": attempt.amount,
            "cur": attempt.currency,
        }
        logger.error("Checkout %s: %s", attempt.pk, reason)
        _move(attempt, CheckoutAttempt.Status.FAILED, reason)
        return "amount mismatch"
    target = _TARGET.get(intent.status)
    if intent.status == "requires_payment_method" and intent.failure_reason:
        if attempt.method == Payment.Method.ACH:
            target = CheckoutAttempt.Status.FAILED  # a returned bank debit ends the attempt; the invoices are free
        else:
            attempt.failure_reason = intent.failure_reason[:255]  # a declined card: the payer may try again
            attempt.save(update_fields=["failure_reason", "updated_at"])
            return "card declined"
    if target is None:
        return f"nothing to do for status {intent.status}"
    if CheckoutAttempt.RANK[target] <= CheckoutAttempt.RANK[attempt.status]:
        return f"ignored: checkout already {attempt.status}"
    _move(attempt, target, intent.failure_reason)
    return f"checkout {target}"


def _move(attempt: CheckoutAttempt, target: str, reason: str = "") -> None:
    Status = CheckoutAttempt.Status
    payment = attempt.payment
    if target == Status.PROCESSING:
        payment = payment or _new_payment(attempt=attempt, status=Payment.Status.PENDING)
    elif target == Status.SUCCEEDED:
        payment = payment or _new_payment(attempt=attempt, status=Payment.Status.PENDING)
        _complete_payment(attempt=attempt, payment=payment)
        _apply_waiting_events(intent_id=attempt.gateway_intent_id)
        transaction.on_commit(lambda: send_receipt(payment_id=payment.pk))
        if attempt.method_to_save:
            transaction.on_commit(lambda: save_method_after_success(attempt_id=attempt.pk))
    elif target in (Status.FAILED, Status.CANCELED) and payment is not None:
        # A pending payment carries no allocations: failing it reverses nothing and frees its invoices.
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED, failure_reason=reason[:255])
    attempt.status = target
    attempt.payment = payment
    attempt.failure_reason = reason[:255] if target in (Status.FAILED, Status.CANCELED) else ""
    attempt.save(update_fields=["status", "payment", "failure_reason", "updated_at"])


def _new_payment(*, attempt: CheckoutAttempt, status: str) -> Payment:
    from billing.services.payments import record_payment  # the ledger's one way to record money

    return record_payment(
        customer=attempt.payer,
        amount=attempt.amount,
        paid_on=timezone.localdate(),
        method=attempt.method,
        reference=attempt.gateway_intent_id or "",
        recorded_by=attempt.started_by,
        status=status,
        gateway=attempt.gateway,
        gateway_payment_id=attempt.gateway_intent_id,
    )


def _complete_payment(*, attempt: CheckoutAttempt, payment: Payment) -> None:
    """The money arrived: apply it to the asked invoices, never above what each still owes.

    An invoice paid some other way meanwhile keeps its balance; that share stays on the payment as
    credit (unallocated) instead of over-paying the invoice.
    """
    from billing.services.payments import allocate_payment  # the ledger's one allocation path

    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.SUCCEEDED, paid_on=timezone.localdate())
    lines = {ln.invoice_id: ln.amount for ln in attempt.lines.all()}
    invoices = (
        Invoice.objects.open()
        .filter(pk__in=lines, customer__in=customers_under(customer_id=payment.customer_id))
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    allocations = {inv.pk: min(lines[inv.pk], inv.balance_due) for inv in invoices}
    allocations = {pk: amount for pk, amount in allocations.items() if amount > 0}
    payment.refresh_from_db()
    if allocations:
        allocate_payment(payment=payment, allocations=allocations)


def send_receipt(*, payment_id: int) -> None:
    """Email the payment receipt to whoever started the checkout (else the payer's address). After commit."""
    payment = Payment.objects.select_related("customer").filter(pk=payment_id).first()
    if payment is None:
        return
    attempt = CheckoutAttempt.objects.filter(payment=payment).select_related("started_by").first()
    to = (
        attempt.started_by.email
        if attempt and attempt.started_by and attempt.started_by.email
        else payment.customer.email
    )
    if not to:
        return
    lines = list(payment.allocations.select_related("invoice__customer").order_by("pk"))
    context = {
        "payment": payment,
        "lines": lines,
        "amount": format_money(payment.amount, payment.currency),
        "site_url": settings.SITE_URL,
    }
    send_mail(
        subject=_("Payment receipt %(number)s") % {"number": payment.number},
        message=render_to_string("portal/pay/receipt_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[to],
    )


# Events ----------------------------------------------------------------------------------------


def receive_gateway_event(*, event: WebhookEvent, gateway_name: str, queue: bool = True) -> GatewayEvent:
    """Store a verified event once (by its id). Repeats return the stored row.

    With `queue` (webhooks) the event is applied by record_gateway_event_task after commit, so the
    webhook answers fast; without it the caller applies it (the sandbox, in the payer's request).
    """
    from billing.gateways.tasks import record_gateway_event_task

    object_id = get_gateway(gateway_name).translate(event.payload).intent_id
    with transaction.atomic():
        stored, created = GatewayEvent.objects.get_or_create(
            event_id=event.id,
            defaults=dict(gateway=gateway_name, type=event.type, object_id=object_id[:100], payload=event.payload),
        )
        if queue and (created or stored.applied_at is None):
            transaction.on_commit(lambda: record_gateway_event_task.delay(stored.pk))
    return stored


def record_gateway_event(*, event: GatewayEvent) -> Payment | None:
    """Apply one stored gateway event to the ledger. Safe to repeat and to run in any order.

    The gateway translates the stored payload into a PaymentEvent first (for a charge.refunded
    without its refunds list it asks the gateway for the intent's refunds, before any lock). The event
    row is locked; once `applied_at` is set the existing payment is returned and nothing changes.
    Payment-intent events move the checkout only forward (a late "processing" never undoes
    "succeeded"); refunds and disputes move forward by their own status, keyed by the gateway's id, so
    repeats and late arrivals change nothing; one that arrives before its payment succeeded waits
    (unapplied) until that payment is recorded. Events about unknown intents, refunds or disputes,
    amounts above the payment or another account's objects are stored with an "ignored: …" outcome
    (shown in the admin, and logged) and change nothing else.
    Raises GatewayError if the gateway can't be asked (the task retries).
    """
    translated = _translated(event)
    with ledger_action():
        event = GatewayEvent.objects.select_for_update().get(pk=event.pk)
        if event.applied_at is not None:
            return event.payment
        return _apply_stored_event(event, translated)


_WAITING_FOR_PAYMENT = "waiting: the payment has not succeeded yet"


def _translated(event: GatewayEvent) -> PaymentEvent:
    """The stored event in our words, with a charge's refunds listed by the gateway when the event lacks them."""
    gateway = get_gateway(event.gateway)
    translated = gateway.translate(event.payload)
    if (
        translated.kind == EventKind.CHARGE_REFUNDED
        and translated.refunds is None
        and translated.intent_id
        and not translated.other_account
        and event.applied_at is None
        and CheckoutAttempt.objects.filter(gateway=event.gateway, gateway_intent_id=translated.intent_id).exists()
    ):
        # Since API version 2022-11-15 Stripe's charge.refunded does not carry the refunds: ask for them.
        translated = replace(translated, refunds=tuple(gateway.list_refunds(intent_id=translated.intent_id)))
    return translated


def _apply_stored_event(event: GatewayEvent, translated: PaymentEvent) -> Payment | None:
    """Apply a locked, not yet applied event. Caller is atomic."""
    handler = _HANDLERS.get(translated.kind)
    if translated.other_account:
        outcome, attempt, payment = f"ignored: an event of another account ({translated.other_account})", None, None
    elif translated.unreadable:
        outcome = f"ignored: the {event.type} event could not be read ({translated.unreadable})"
        attempt, payment = None, None
        logger.warning("Gateway event %s ignored: %s", event.event_id, outcome)
    elif handler is None:
        outcome, attempt, payment = f"ignored: {event.type} is not handled", None, None
    else:
        outcome, attempt, payment = handler(translated, event.gateway)
    if outcome.startswith("ignored") and handler is not None and "already" not in outcome:
        # Bad input (unknown intent, refund or dispute, another account's, amounts that don't fit): the
        # webhook was answered 2xx and nothing was written; staff find it here and in the event's outcome.
        logger.warning("Gateway event %s (%s) ignored: %s", event.event_id, event.type, outcome)
    event.outcome = outcome[:255]
    event.attempt = attempt
    if outcome == _WAITING_FOR_PAYMENT:
        # Left unapplied: _apply_waiting_events picks it up when the payment succeeds.
        event.save(update_fields=["outcome", "attempt"])
        return None
    event.applied_at = timezone.now()
    event.payment = payment
    event.save(update_fields=["applied_at", "outcome", "attempt", "payment"])
    return payment


def _apply_waiting_events(*, intent_id: str) -> None:
    """Refund and dispute events that arrived before this intent's payment succeeded, applied now
    (caller is atomic).

    skip_locked: an event whose own task holds its row is waiting for the checkout lock this
    transaction holds, and applies itself once this commits.
    """
    waiting = GatewayEvent.objects.select_for_update(skip_locked=True).filter(
        object_id=intent_id, applied_at__isnull=True, outcome=_WAITING_FOR_PAYMENT
    )
    for event in waiting.order_by("pk"):
        _apply_stored_event(event, _translated(event))


def requeue_unapplied_gateway_events(*, older_than: timedelta, limit: int, expires: float) -> list[int]:
    """Queue record_gateway_event_task again for stored events still unapplied; return their ids.

    A webhook is answered once its event is stored, so the gateway never resends it: if the worker
    holding its task dies, or the broker loses the message, only this brings it back (beat, every
    30 s). Oldest first, at most `limit` per run. Skipped: events received less than `older_than`
    ago (their own task is normally still on its way), events whose row is locked (a task is
    applying it right now; a copy would only wait on that lock and tie up a worker), and refund
    events waiting for their payment while that checkout is still open or processing (the payment's
    success applies them, `_apply_waiting_events`; re-running them meanwhile only says "waiting"
    again). Re-queued messages expire after `expires` seconds, so a broker without a consuming
    worker collects a few copies per event, not one per beat run. Safe to repeat: applying is.
    """
    from billing.gateways.tasks import record_gateway_event_task

    still_waiting = Q(
        outcome=_WAITING_FOR_PAYMENT,
        attempt__status__in=(CheckoutAttempt.Status.OPEN, CheckoutAttempt.Status.PROCESSING),
    )
    with transaction.atomic():
        ids = list(
            GatewayEvent.objects.filter(applied_at__isnull=True, received_at__lte=timezone.now() - older_than)
            .exclude(still_waiting)
            .order_by("received_at", "pk")
            .select_for_update(of=("self",), skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        for pk in ids:
            transaction.on_commit(partial(record_gateway_event_task.apply_async, args=(pk,), expires=expires))
    if ids:
        logger.warning("Re-queued %d gateway event(s) stored but not applied (oldest id %s)", len(ids), ids[0])
    return ids


def _apply_intent_event(ev: PaymentEvent, gateway_name: str):
    intent = ev.intent
    attempt = (
        CheckoutAttempt.objects.select_for_update().filter(gateway_intent_id=intent.id, gateway=gateway_name).first()
    )
    if attempt is None:
        return "ignored: no checkout for this intent", None, None
    checkout, payer = intent.metadata.get("checkout"), intent.metadata.get("payer")
    if (checkout and checkout != str(attempt.token)) or (payer and payer != str(attempt.payer_id)):
        return "ignored: the intent belongs to another checkout or account", None, None
    outcome = _apply_intent(attempt=attempt, intent=intent)
    return outcome, attempt, attempt.payment


def _paid_payment(intent_id: str, gateway_name: str):
    """(payment, attempt, why not) for a refund or dispute of this intent: locks the checkout first (as the
    intent's own events do), then the payment, so one racing the payment's success waits for it."""
    attempt = (
        CheckoutAttempt.objects.select_for_update().filter(gateway_intent_id=intent_id, gateway=gateway_name).first()
        if intent_id
        else None
    )
    payment = (
        Payment.objects.select_for_update().filter(gateway_payment_id=intent_id, gateway=gateway_name).first()
        if intent_id
        else None
    )
    if payment is None or payment.status in (Payment.Status.PENDING, Payment.Status.FAILED):
        if attempt is not None and attempt.status not in (
            CheckoutAttempt.Status.FAILED,
            CheckoutAttempt.Status.CANCELED,
        ):
            return None, attempt, _WAITING_FOR_PAYMENT
        return None, attempt, "ignored: no payment for this intent"
    return payment, attempt, ""


_REFUND_RANK = {
    Refund.Status.PENDING: 0,
    Refund.Status.SUCCEEDED: 1,
    Refund.Status.FAILED: 2,
    Refund.Status.CANCELED: 2,
}


def _apply_refunds(ev: PaymentEvent, gateway_name: str):
    payment, attempt, why = _paid_payment(ev.intent_id, gateway_name)
    if payment is None:
        return why, attempt, None
    if ev.kind == EventKind.CHARGE_REFUNDED and ev.amount is not None and ev.amount > payment.amount:
        return f"ignored: {ev.amount} {ev.currency} refunded is above the payment's {payment.amount}", attempt, None
    results = [_sync_refund(payment=payment, info=info) for info in ev.refunds or ()]
    ignored = [r for r in results if r.startswith("ignored")]
    if results and len(ignored) == len(results):
        return "; ".join(ignored), attempt, None
    counts = {word: sum(1 for r in results if r == word) for word in ("recorded", "updated", "restored")}
    outcome = f"{counts['recorded']} refund(s) recorded" + "".join(
        f", {counts[word]} {word}" for word in ("updated", "restored") if counts[word]
    )
    if ignored:
        outcome += "; " + "; ".join(ignored)
    return outcome, getattr(payment, "checkout", None), payment


def _sync_refund(*, payment: Payment, info: RefundInfo) -> str:
    """Bring the ledger's refund `info.id` to the gateway's status, forward only. Caller holds the payment lock.

    Pending counts as refunded (the allocations are reversed at once, as Stripe's dashboard shows it);
    a refund that fails or is canceled gives the money back to the invoices (cancel_refund). A failed or
    canceled refund we never saw is kept as such, so a late "pending" event cannot count it.
    """
    from billing.services.refunds import cancel_refund

    if info.status not in _REFUND_RANK:
        return f"ignored: refund {info.id} has an unknown status {info.status!r}"
    if (info.intent_id and info.intent_id != payment.gateway_payment_id) or info.currency != payment.currency:
        return f"ignored: refund {info.id} is not of this payment"
    existing = Refund.objects.select_for_update().filter(gateway_refund_id=info.id).first()
    if existing is not None:
        if existing.payment_id != payment.pk or existing.amount != info.amount:
            return f"ignored: refund {info.id} does not match the one recorded"
        if _REFUND_RANK[info.status] <= _REFUND_RANK[existing.status]:
            return "unchanged"
        if info.status in (Refund.Status.FAILED, Refund.Status.CANCELED):
            cancel_refund(refund=existing, status=info.status)
            return "restored"
        Refund.objects.filter(pk=existing.pk).update(status=info.status)
        return "updated"
    payment.refresh_from_db(fields=["refunded_amount", "unallocated", "status"])
    if info.status in Refund.COUNTED and info.amount > payment.amount - payment.refunded_amount:
        return (
            f"ignored: refund {info.id} of {info.amount} {info.currency} is above the "
            f"{payment.amount - payment.refunded_amount} left on the payment"
        )
    _ledger_refund(payment=payment, amount=info.amount, gateway_refund_id=info.id, status=info.status)
    return "recorded"


def _apply_dispute(ev: PaymentEvent, gateway_name: str):
    from billing.services.disputes import record_dispute

    payment, attempt, why = _paid_payment(ev.intent_id, gateway_name)
    if payment is None:
        return why, attempt, None
    outcome = record_dispute(payment=payment, info=ev.dispute, gateway=gateway_name)
    if outcome.startswith("ignored"):
        return outcome, attempt, None
    return outcome, getattr(payment, "checkout", None), payment


# One handler per kind of event (billing.gateways.EventKind); kinds not here are stored and ignored.
_HANDLERS = {
    EventKind.INTENT_UPDATED: _apply_intent_event,
    EventKind.REFUND_UPDATED: _apply_refunds,
    EventKind.CHARGE_REFUNDED: _apply_refunds,
    **{kind: _apply_dispute for kind in EventKind.DISPUTES},
}


def deliver_sandbox_events(*, gateway: Gateway) -> None:
    """Hand the sandbox's new events to the same path as Stripe's webhooks (no-op for other gateways)."""
    take = getattr(gateway, "take_events", None)
    if take is None:
        return
    for event in take():
        # Applied here rather than by a worker: the sandbox's "days later" is this request.
        record_gateway_event(event=receive_gateway_event(event=event, gateway_name=gateway.name, queue=False))


@ledger_action()
def settle_sandbox_payment(*, attempt: CheckoutAttempt, succeed: bool) -> CheckoutAttempt:
    """Sandbox only: the bank debit settles (or is returned), as days later with Stripe. Staff and dev use."""
    gateway = get_gateway(attempt.gateway)
    if not hasattr(gateway, "settle_ach"):
        _refuse(_("Only sandbox payments can be settled by hand."), "not_sandbox")
    if attempt.status != CheckoutAttempt.Status.PROCESSING:
        _refuse(
            _("This payment is %(status)s, not processing."),
            "not_processing",
            status=attempt.get_status_display().lower(),
        )
    gateway.settle_ach(attempt.gateway_intent_id, succeed=succeed)
    transaction.on_commit(lambda: deliver_sandbox_events(gateway=gateway))
    return attempt


def _sandbox_gateway_of(payment: Payment) -> Gateway:
    gateway = get_gateway(payment.gateway) if payment.gateway else None
    if gateway is None or not hasattr(gateway, "open_dispute") or not payment.gateway_payment_id:
        _refuse(_("Only sandbox payments can be disputed by hand."), "not_sandbox")
    return gateway


@transaction.atomic
def open_sandbox_dispute(*, payment: Payment, reason: str = "fraudulent") -> None:
    """Sandbox only: the payer's bank disputes the card payment (charge.dispute.created, funds withdrawn).
    Staff and dev use; the events are applied after commit as webhooks would be. Raises ValidationError."""
    gateway = _sandbox_gateway_of(payment)
    try:
        gateway.open_dispute(payment.gateway_payment_id, reason=reason)
    except GatewayError as exc:
        _refuse(exc.reason, exc.code)
    transaction.on_commit(lambda: deliver_sandbox_events(gateway=gateway))


@transaction.atomic
def close_sandbox_dispute(*, payment: Payment, won: bool) -> None:
    """Sandbox only: the bank decides the payment's open dispute (won reinstates the money). Raises ValidationError."""
    gateway = _sandbox_gateway_of(payment)
    open_ones = [d for d in gateway.disputes_of(payment.gateway_payment_id) if d["status"] not in ("won", "lost")]
    if not open_ones:
        _refuse(_("Payment %(number)s has no open dispute."), "no_open_dispute", number=payment.number)
    gateway.close_dispute(open_ones[0]["id"], won=won)
    transaction.on_commit(lambda: deliver_sandbox_events(gateway=gateway))


@transaction.atomic
def fail_sandbox_refund(*, refund: Refund, status: str = "failed") -> None:
    """Sandbox only: a refund fails (or is canceled) at the gateway; its event gives the money back."""
    payment = refund.payment
    gateway = _sandbox_gateway_of(payment) if payment is not None else None
    if gateway is None or not refund.gateway_refund_id:
        _refuse(_("Only sandbox refunds can be failed by hand."), "not_sandbox")
    try:
        gateway.fail_refund(refund.gateway_refund_id, status=status)
    except GatewayError as exc:
        _refuse(exc.reason, exc.code)
    transaction.on_commit(lambda: deliver_sandbox_events(gateway=gateway))


# Refunds ---------------------------------------------------------------------------------------


def _ledger_refund(*, payment: Payment, amount: Decimal, gateway_refund_id: str, status: str) -> Refund:
    from billing.services.refunds import refund_payment  # the ledger's refund: reverses allocations

    return refund_payment(
        payment=payment,
        amount=amount,
        method=payment.method,
        reference=gateway_refund_id,
        gateway_refund_id=gateway_refund_id,
        status=status,
    )


def refund_online_payment(*, payment: Payment, amount: Decimal, refunded_by=None) -> Refund:
    """Refund (part of) an online payment through its gateway, then record it in the ledger.

    Checked before the gateway is called; the ledger refund reverses allocations (a pending refund
    counts as made). The gateway's later refund and charge.refunded events find the refund id already
    recorded and only move its status (a failed one gives the money back to the invoices).
    Raises ValidationError or GatewayError.
    """
    with ledger_action():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        left = payment.amount - payment.refunded_amount
        if not payment.gateway or not payment.gateway_payment_id:
            _refuse(
                _("Payment %(number)s was not taken online; record its refund in the ledger."),
                "not_online",
                number=payment.number,
            )
        if payment.status != Payment.Status.SUCCEEDED:
            _refuse(
                _("Payment %(number)s is %(status)s; only a succeeded payment can be refunded."),
                "not_succeeded",
                number=payment.number,
                status=payment.get_status_display().lower(),
            )
        if not isinstance(amount, Decimal) or amount <= 0 or not is_whole_minor_units(amount, payment.currency):
            _refuse(_("Enter a refund above zero, in whole cents."), "bad_amount")
        if amount > left:
            _refuse(
                _("Payment %(number)s has only %(left)s %(cur)s left to refund."),
                "exceeds_payment",
                number=payment.number,
                left=left,
                cur=payment.currency,
            )
        gateway = get_gateway(payment.gateway)
        result = gateway.refund(
            intent_id=payment.gateway_payment_id,
            amount=amount,
            currency=payment.currency,
            idempotency_key=f"refund-{payment.pk}-{payment.refunded_amount}-{amount}",
        )
        status = "pending" if result.status == "requires_action" else result.status
        if status not in Refund.COUNTED:
            _refuse(
                _("%(gateway)s did not refund: the refund is %(status)s."),
                "refund_not_made",
                gateway=payment.gateway,
                status=status,
            )
        refund = _ledger_refund(payment=payment, amount=result.amount, gateway_refund_id=result.id, status=status)
        transaction.on_commit(lambda: deliver_sandbox_events(gateway=gateway))
    return refund


def remove_saved_method(*, saved: SavedPaymentMethod, gateway: Gateway | None = None) -> None:
    """Detach the method at the gateway and forget it. Raises GatewayError if the gateway refuses."""
    gateway = gateway or get_gateway(saved.gateway)
    try:
        gateway.detach_payment_method(saved.gateway_method_id)
    except PaymentDeclined:
        pass  # already gone at the gateway: forgetting it here is what the payer asked
    saved.delete()


__all__ = [
    "GatewayError",
    "close_sandbox_dispute",
    "confirm_checkout",
    "deliver_sandbox_events",
    "fail_sandbox_refund",
    "open_sandbox_dispute",
    "receive_gateway_event",
    "record_gateway_event",
    "refresh_checkout",
    "refund_online_payment",
    "remove_saved_method",
    "requeue_unapplied_gateway_events",
    "save_method_after_success",
    "send_receipt",
    "settle_sandbox_payment",
    "start_checkout",
]
