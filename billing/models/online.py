"""Online payments: checkout attempts, gateway events, saved payment methods.

A CheckoutAttempt is what a payer asked to pay (per invoice) and the gateway intent that
carries it; the ledger Payment is only written from the gateway's confirmed event. While an
attempt is `processing` (ACH debits take days) its invoices cannot be paid again.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES, MoneyField

from .customers import Customer
from .ledger import Invoice, Payment, Refund


class SavedPaymentMethod(models.Model):
    """A card or bank account a customer chose to keep for future payments (stored at the gateway)."""

    class Kind(models.TextChoices):
        CARD = "card", _("Card")
        US_BANK_ACCOUNT = "us_bank_account", _("US bank account (ACH)")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="saved_payment_methods")
    gateway = models.CharField(_("gateway"), max_length=20)
    gateway_customer_id = models.CharField(_("gateway customer id"), max_length=100)
    gateway_method_id = models.CharField(_("gateway payment method id"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    brand = models.CharField(_("card brand or bank"), max_length=60, blank=True)
    last4 = models.CharField(_("last 4 digits"), max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["customer", "-created_at", "pk"]
        verbose_name = _("saved payment method")

    def __str__(self):
        return f"{self.brand or self.get_kind_display()} ···· {self.last4}"

    @property
    def payment_method(self) -> str:
        return Payment.Method.CARD if self.kind == self.Kind.CARD else Payment.Method.ACH


class GatewayCustomer(models.Model):
    """Our customer's id at a gateway (Stripe `cus_…`), created on first need."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="gateway_customers")
    gateway = models.CharField(_("gateway"), max_length=20)
    gateway_customer_id = models.CharField(_("gateway customer id"), max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "gateway"], name="one_gateway_customer_each")
        ]

    def __str__(self):
        return self.gateway_customer_id


class CheckoutAttemptQuerySet(models.QuerySet):
    def processing(self):
        return self.filter(status=CheckoutAttempt.Status.PROCESSING)


class CheckoutAttempt(models.Model):
    """One "Pay" by a portal payer: the amounts asked per invoice and the gateway intent carrying them."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for the payer")
        PROCESSING = "processing", _("Payment processing")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    # Events can arrive in any order: a status only ever moves to a higher rank.
    RANK = {Status.OPEN: 0, Status.PROCESSING: 1, Status.SUCCEEDED: 2, Status.FAILED: 2, Status.CANCELED: 2}

    payer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="checkout_attempts")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.UUIDField(_("public token"), default=uuid.uuid4, unique=True, editable=False)
    amount = MoneyField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    method = models.CharField(
        _("method"),
        max_length=16,
        choices=[
            (Payment.Method.CARD, Payment.Method.CARD.label),
            (Payment.Method.ACH, Payment.Method.ACH.label),
        ],
    )
    saved_method = models.ForeignKey(
        SavedPaymentMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    save_method = models.BooleanField(_("save for future payments"), default=False)
    # The method the payer asked to keep: saved only once the payment with it succeeds, never on a decline.
    method_to_save = models.CharField(_("method to save on success"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    gateway = models.CharField(_("gateway"), max_length=20)
    gateway_intent_id = models.CharField(
        _("gateway intent id"), max_length=100, null=True, blank=True, unique=True
    )
    client_secret = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    # Set when we first ask the gateway to confirm: a second click waits for the lock, then sees it.
    confirmed_at = models.DateTimeField(_("confirmation sent"), null=True, blank=True)
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="checkout"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CheckoutAttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_positive")]
        indexes = [models.Index(fields=["payer", "status"], name="checkout_payer_status")]

    def __str__(self):
        return f"Checkout {self.token} ({self.get_status_display()})"

    @property
    def gateway_method_kind(self) -> str:
        return "us_bank_account" if self.method == Payment.Method.ACH else "card"


class CheckoutLineQuerySet(models.QuerySet):
    def processing(self):
        """Lines of payments still processing: their invoices show "payment processing" and can't be paid."""
        return self.filter(attempt__status=CheckoutAttempt.Status.PROCESSING)


class CheckoutLine(models.Model):
    """The amount a checkout attempt asks to apply to one invoice."""

    attempt = models.ForeignKey(CheckoutAttempt, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="checkout_lines")
    amount = MoneyField(_("amount"))

    objects = CheckoutLineQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_line_amount_positive"),
            models.UniqueConstraint(fields=["attempt", "invoice"], name="one_checkout_line_per_invoice"),
        ]

    def __str__(self):
        return f"{self.invoice_id}: {self.amount}"


class GatewayEvent(models.Model):
    """A gateway event (webhook or sandbox), stored once by its id; `applied_at` makes replays no-ops."""

    gateway = models.CharField(_("gateway"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=60)
    object_id = models.CharField(
        _("object id"),
        max_length=100,
        blank=True,
        db_index=True,
        help_text=_("The PaymentIntent (or charge) the event is about."),
    )
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    attempt = models.ForeignKey(
        CheckoutAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="gateway_events"
    )

    class Meta:
        ordering = ["received_at", "pk"]
        indexes = [
            # The re-queue beat looks for unapplied events every 30 s; applied ones (nearly all) stay out.
            models.Index(
                fields=["received_at", "id"],
                condition=models.Q(applied_at__isnull=True),
                name="billing_gwevent_unapplied",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class Dispute(models.Model):
    """A card dispute (chargeback) on an online payment, as the gateway reports it.

    While the gateway holds the disputed money (status needs_response, under_review or lost) the
    ledger holds it too: `hold` is a refund-like row that took it off the payment's invoices. A won
    dispute cancels that row, so the money is applied again. An inquiry (warning_*) holds nothing.
    """

    class Status(models.TextChoices):
        WARNING_NEEDS_RESPONSE = "warning_needs_response", _("Inquiry: needs response")
        WARNING_UNDER_REVIEW = "warning_under_review", _("Inquiry: under review")
        WARNING_CLOSED = "warning_closed", _("Inquiry closed")
        NEEDS_RESPONSE = "needs_response", _("Needs response")
        UNDER_REVIEW = "under_review", _("Under review")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # Events arrive in any order: a dispute only moves to a higher rank; the last three are final.
    RANK = {
        Status.WARNING_NEEDS_RESPONSE: 0,
        Status.WARNING_UNDER_REVIEW: 1,
        Status.NEEDS_RESPONSE: 2,
        Status.UNDER_REVIEW: 3,
        Status.WARNING_CLOSED: 4,
        Status.WON: 4,
        Status.LOST: 4,
    }
    HOLDING = (Status.NEEDS_RESPONSE, Status.UNDER_REVIEW, Status.LOST)
    CLOSED = (Status.WARNING_CLOSED, Status.WON, Status.LOST)

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    gateway = models.CharField(_("gateway"), max_length=20)
    gateway_dispute_id = models.CharField(_("gateway dispute id"), max_length=100, unique=True)
    amount = MoneyField(_("disputed amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    reason = models.CharField(_("reason"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=24, choices=Status.choices)
    evidence_due_by = models.DateTimeField(_("evidence due by"), null=True, blank=True)
    fee = MoneyField(_("dispute fee"), default=0, help_text=_("Net fees the gateway charged for this dispute."))
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, blank=True)
    hold = models.OneToOneField(
        Refund,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dispute",
        help_text=_("The refund-like row that took the disputed money off the invoices."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="dispute_amount_positive")]

    def __str__(self):
        return f"Dispute {self.gateway_dispute_id} ({self.get_status_display()})"


class SandboxObject(models.Model):
    """The sandbox gateway's memory (intents, customers, methods, refunds), in the database so that
    several web processes share it. Never used with Stripe."""

    id = models.CharField(primary_key=True, max_length=60)
    kind = models.CharField(max_length=30)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.kind} {self.pk}"
