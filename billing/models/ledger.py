"""The ledger: invoices (and retainer invoices), credit notes, payments and what they are applied to.

Amounts that move (balance_due, unallocated, balance, retainer_unused) are denormalised for
speed; only services in billing/services change them, always in the same transaction as the
rows they derive from, and `manage.py check_ledger` recomputes them from those rows.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.money import CURRENCY_CHOICES, ZERO, MoneyField

from .bookkeeping import LedgerQuerySet, LedgerRow
from .catalog import Item
from .customers import Customer

QUANTITY = dict(max_digits=12, decimal_places=3)
PERCENT = dict(max_digits=5, decimal_places=2)


def shown_reference(reference: str, *, gateway: str = "", gateway_id: str | None = None) -> str:
    """A payment's or refund's reference as customers see it: the one a person gave (a cheque number, a
    bank transfer's reference), never a gateway's id (`pi_…`, `re_…`), which online payments and refunds
    carry as their reference. Staff see the stored reference and gateway id in the admin. The statement's
    SQL applies the same rule (`billing.selectors.statements._details_sql`)."""
    if gateway or (gateway_id and reference == gateway_id):
        return ""
    return reference


class DocumentSequence(models.Model):
    """Gap-free numbering per document kind: the row is locked while a number is taken."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        RETAINER = "retainer", _("Retainer invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")
        SALES_ORDER = "sales_order", _("Sales order")
        PAYMENT = "payment", _("Payment receipt")

    kind = models.CharField(_("document"), max_length=12, choices=Kind.choices, unique=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    next_number = models.PositiveIntegerField(_("next number"), default=1)
    padding = models.PositiveSmallIntegerField(_("digits"), default=5)

    def __str__(self):
        return f"{self.get_kind_display()}: {self.prefix}{self.next_number:0{self.padding}d}"


class InvoiceQuerySet(LedgerQuerySet):
    def open(self):
        """Sent and not fully paid: what a customer still owes (overdue ones included)."""
        return self.filter(status__in=(Invoice.Status.SENT, Invoice.Status.PARTIALLY_PAID), balance_due__gt=0)

    def overdue(self, today=None):
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def regular(self):
        return self.filter(is_retainer=False)

    def retainers(self):
        return self.filter(is_retainer=True)


class Invoice(LedgerRow):
    """An invoice, or with `is_retainer` a retainer invoice (advance billing).

    "Overdue" is not stored: it is an open invoice past its due date (`is_overdue`), so it
    can never drift from the calendar.
    """

    FIGURE_NEUTRAL_FIELDS = frozenset(
        {"reference", "notes", "terms", "sent_at", "voided_at",
         "first_viewed_at", "created_by", "updated_at"}
    )

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("number"), max_length=30, unique=True)
    is_retainer = models.BooleanField(_("retainer invoice"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    issued_on = models.DateField(_("invoice date"))
    due_on = models.DateField(_("due date"))
    reference = models.CharField(_("reference / PO number"), max_length=60, blank=True)
    notes = models.TextField(_("customer notes"), blank=True)
    terms = models.TextField(_("terms and conditions"), blank=True)
    allow_partial_payments = models.BooleanField(_("allow partial payments"), default=True)
    subtotal = MoneyField(_("subtotal"), default=ZERO)
    discount_total = MoneyField(_("discount"), default=ZERO)
    tax_total = MoneyField(_("tax"), default=ZERO)
    total = MoneyField(_("total"), default=ZERO)
    balance_due = MoneyField(_("balance due"), default=ZERO)
    # Retainer invoices only: paid in advance and not yet applied to invoices or refunded.
    retainer_unused = MoneyField(_("unused retainer"), default=ZERO)
    sales_order = models.ForeignKey(
        "billing.SalesOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    billing_period_start = models.DateField(_("subscription period start"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    first_viewed_at = models.DateTimeField(_("first viewed in portal"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="invoice_total_not_negative"),
            models.CheckConstraint(
                condition=Q(balance_due__gte=0) & Q(balance_due__lte=F("total")), name="invoice_balance_within_total"
            ),
            models.CheckConstraint(condition=Q(retainer_unused__gte=0), name="invoice_retainer_unused_not_negative"),
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="invoice_due_after_issue"),
            models.UniqueConstraint(
                fields=["subscription", "billing_period_start"],
                condition=Q(subscription__isnull=False),
                name="one_invoice_per_subscription_period",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "status", "due_on"], name="invoice_customer_status_due"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.PARTIALLY_PAID) and self.balance_due > 0

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()

    @property
    def display_status(self) -> str:
        return str(_("Overdue")) if self.is_overdue else self.get_status_display()

    @property
    def amount_paid(self) -> Decimal:
        return self.total - self.balance_due

    @property
    def subtotal_before_discount(self) -> Decimal:
        """The lines before their discounts: the printed Subtotal. `subtotal` is stored net of the line
        discounts (total = subtotal + tax), so Subtotal − Discount + Tax = Total only with this figure."""
        return self.subtotal + self.discount_total

    def settle(self, amount: Decimal) -> None:
        """Lower the balance by `amount` and move the status with it. Callers lock the row first."""
        self.balance_due -= amount
        self.status = self.Status.PAID if self.balance_due == 0 else self.Status.PARTIALLY_PAID

    def reopen(self, amount: Decimal) -> None:
        """Raise the balance again (a reversed payment or refund) and move the status with it."""
        self.balance_due += amount
        self.status = self.Status.SENT if self.balance_due == self.total else self.Status.PARTIALLY_PAID


class RetainerInvoiceManager(models.Manager.from_queryset(InvoiceQuerySet)):
    def get_queryset(self):
        return super().get_queryset().filter(is_retainer=True)


class RetainerInvoice(Invoice):
    """Retainer invoices only: their own page in the back office (same table as Invoice)."""

    objects = RetainerInvoiceManager()

    class Meta:
        proxy = True
        verbose_name = _("retainer invoice")
        verbose_name_plural = _("retainer invoices")


class LineAmounts(models.Model):
    """Columns every document line has. Amounts are rounded per line, then summed."""

    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"), **QUANTITY, default=Decimal("1"), validators=[MinValueValidator(Decimal("0.001"))]
    )
    rate = MoneyField(_("rate"), validators=[MinValueValidator(Decimal("0"))])
    discount_percent = models.DecimalField(_("discount %"), **PERCENT, default=0)
    tax_percent = models.DecimalField(_("tax %"), **PERCENT, default=0)
    amount = MoneyField(_("amount"), default=ZERO, help_text=_("Quantity × rate − discount, rounded."))
    discount_amount = MoneyField(_("discount amount"), default=ZERO)
    tax_amount = MoneyField(_("tax amount"), default=ZERO)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    @property
    def amount_before_discount(self) -> Decimal:
        """Quantity × rate, rounded: the line as printed above a Subtotal taken before discounts."""
        return self.amount + self.discount_amount


class InvoiceLine(LineAmounts):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    # Set when the line invoices part of a sales order line: voiding the invoice gives the
    # quantity back to exactly that order line.
    sales_order_line = models.ForeignKey(
        "billing.SalesOrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )

    class Meta(LineAmounts.Meta):
        pass

    def __str__(self):
        return f"{self.invoice_id}: {self.description}"


class PaymentQuerySet(LedgerQuerySet):
    def succeeded(self):
        return self.filter(status=Payment.Status.SUCCEEDED)


class Payment(LedgerRow):
    """Money received from a customer. Only a succeeded payment carries allocations."""

    FIGURE_NEUTRAL_FIELDS = frozenset({"reference", "notes", "failure_reason", "recorded_by"})

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")
        ACH = "ach", _("ACH bank debit")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        REFUNDED = "refunded", _("Refunded")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text=_("Who paid: a parent may pay its branches' invoices."),
    )
    number = models.CharField(_("receipt number"), max_length=30, unique=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = MoneyField(_("amount"))
    unallocated = MoneyField(
        _("unallocated"), default=ZERO, help_text=_("Excess not applied to invoices: available credit.")
    )
    refunded_amount = MoneyField(_("refunded"), default=ZERO)
    paid_on = models.DateField(_("payment date"))
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    gateway = models.CharField(_("gateway"), max_length=20, blank=True)
    gateway_payment_id = models.CharField(_("gateway payment id"), max_length=100, null=True, blank=True, unique=True)
    notes = models.TextField(_("notes"), blank=True)
    # Set while a card dispute (chargeback) on this payment is open or was lost: the portal shows "Disputed".
    disputed = models.BooleanField(_("disputed"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-paid_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(unallocated__gte=0) & Q(unallocated__lte=F("amount")),
                name="payment_unallocated_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["customer", "status", "paid_on"], name="payment_customer_status_date")]

    def __str__(self):
        return self.number

    @property
    def customer_reference(self) -> str:
        """The reference a customer may see (`shown_reference`): empty for an online payment."""
        return shown_reference(self.reference, gateway=self.gateway, gateway_id=self.gateway_payment_id)

    @property
    def display_status(self) -> str:
        """The status a customer sees: "Disputed" while a chargeback is open or after it was lost."""
        return str(_("Disputed")) if self.disputed else self.get_status_display()


class Allocation(LedgerRow):
    """Part of a payment applied to one invoice (the payer's own or a visible branch's)."""

    ACCOUNT_FIELDS = ("payer_customer", "invoice_customer")
    objects = LedgerQuerySet.as_manager()

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = MoneyField(_("amount"))
    applied_on = models.DateField(_("applied on"), default=timezone.localdate)
    # Both customers kept on the row (set where it is written, checked by `check_ledger`), so a statement
    # tells a transfer between two customers from a customer paying its own invoice without reading
    # the payment and the invoice; partial indexes (migration 0011) hold the real transfers only.
    payer_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive")]

    def __str__(self):
        return f"{self.payment} → {self.invoice}: {self.amount}"


class AllocationReversal(LedgerRow):
    """Part of an allocation taken back because its payment was refunded.

    Allocations are never edited or deleted; a refund that reaches allocated money adds these
    rows instead, so the invoice owes again and the history keeps both steps.
    """

    ACCOUNT_FIELDS = ("payer_customer", "invoice_customer")
    objects = LedgerQuerySet.as_manager()

    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="reversals")
    refund = models.ForeignKey("billing.Refund", on_delete=models.PROTECT, related_name="allocation_reversals")
    amount = MoneyField(_("amount"))
    reversed_on = models.DateField(_("reversed on"), default=timezone.localdate)
    # Copied from the allocation (its payment's customer, its invoice's customer), as on the allocation.
    payer_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_reversal_amount_positive")]

    def __str__(self):
        return f"{self.allocation} reversed: {self.amount}"


class CreditNote(LedgerRow):
    """Money owed back to a customer: applied to invoices or refunded. `balance` is what is left."""

    objects = LedgerQuerySet.as_manager()

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        VOID = "void", _("Void")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=30, unique=True)
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text=_("The invoice this credit corrects, if any."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    issued_on = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    subtotal = MoneyField(_("subtotal"), default=ZERO)
    tax_total = MoneyField(_("tax"), default=ZERO)
    total = MoneyField(_("total"), default=ZERO)
    balance = MoneyField(_("credit remaining"), default=ZERO)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive"),
            models.CheckConstraint(
                condition=Q(balance__gte=0) & Q(balance__lte=F("total")), name="credit_note_balance_within_total"
            ),
        ]

    def __str__(self):
        return self.number


class CreditNoteLine(LineAmounts):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineAmounts.Meta):
        pass

    def __str__(self):
        return f"{self.credit_note_id}: {self.description}"


class CreditApplication(LedgerRow):
    """Part of a credit note applied to an invoice (the holder's own or a visible branch's)."""

    ACCOUNT_FIELDS = ("payer_customer", "invoice_customer")
    objects = LedgerQuerySet.as_manager()

    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="applications")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_applications")
    amount = MoneyField(_("amount"))
    applied_on = models.DateField(_("applied on"), default=timezone.localdate)
    # Both customers kept on the row (set where it is written, checked by `check_ledger`), so a statement
    # tells a transfer between two customers from a customer paying its own invoice without reading
    # the credit note and the invoice; partial indexes (migration 0011) hold the real transfers only.
    payer_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="credit_application_amount_positive")]

    def __str__(self):
        return f"{self.credit_note_id} → {self.invoice_id}: {self.amount}"


class RetainerApplication(LedgerRow):
    """Part of a paid retainer applied to a later invoice."""

    ACCOUNT_FIELDS = ("payer_customer", "invoice_customer")
    objects = LedgerQuerySet.as_manager()

    retainer = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="retainer_applications", limit_choices_to={"is_retainer": True}
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="retainers_applied")
    amount = MoneyField(_("amount"))
    applied_on = models.DateField(_("applied on"), default=timezone.localdate)
    # Both customers kept on the row (set where it is written, checked by `check_ledger`), so a statement
    # tells a transfer between two customers from a customer paying its own invoice without reading
    # the retainer and the invoice; partial indexes (migration 0011) hold the real transfers only.
    payer_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    invoice_customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="retainer_application_amount_positive")]

    def __str__(self):
        return f"{self.retainer_id} → {self.invoice_id}: {self.amount}"


class RefundQuerySet(LedgerQuerySet):
    def counted(self):
        """Refunds that took money back: every sum of refunds reads these (a failed or canceled one did not)."""
        return self.filter(status__in=Refund.COUNTED)


class Refund(LedgerRow):
    """Money paid back: from a payment's excess, a credit note, an unused retainer, or a gateway refund.

    A gateway refund can be pending, then succeed, fail or be canceled. Pending counts as refunded (as
    in Stripe's dashboard); a failed or canceled one counts nowhere (no statement line, no sum) and its
    reversed allocations were applied again (`billing.services.refunds.cancel_refund`). Money a card
    dispute took back is a refund too (its `Dispute.hold`), canceled when the dispute is won.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    COUNTED = (Status.PENDING, Status.SUCCEEDED)

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    retainer = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="retainer_refunds"
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = MoneyField(_("amount"))
    refunded_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=16, choices=Payment.Method.choices)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    gateway_refund_id = models.CharField(_("gateway refund id"), max_length=100, null=True, blank=True, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUCCEEDED)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        ordering = ["-refunded_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=(
                    Q(payment__isnull=False, credit_note__isnull=True, retainer__isnull=True)
                    | Q(payment__isnull=True, credit_note__isnull=False, retainer__isnull=True)
                    | Q(payment__isnull=True, credit_note__isnull=True, retainer__isnull=False)
                ),
                name="refund_has_one_source",
            ),
        ]

    def __str__(self):
        return f"Refund {self.amount} {self.currency} on {self.refunded_on}"

    @property
    def customer_reference(self) -> str:
        """The reference a customer may see (`shown_reference`): empty for a gateway's refund id."""
        return shown_reference(self.reference, gateway_id=self.gateway_refund_id)

    @property
    def counts(self) -> bool:
        return self.status in self.COUNTED


class SalesOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        VOID = "void", _("Void")

    class InvoicedStatus(models.TextChoices):
        NOT_INVOICED = "not_invoiced", _("Not invoiced")
        PARTIALLY_INVOICED = "partially_invoiced", _("Partially invoiced")
        INVOICED = "invoiced", _("Invoiced")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales_orders")
    number = models.CharField(_("number"), max_length=30, unique=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    invoiced_status = models.CharField(
        _("invoiced"), max_length=20, choices=InvoicedStatus.choices, default=InvoicedStatus.NOT_INVOICED
    )
    ordered_on = models.DateField(_("order date"))
    expected_shipment_on = models.DateField(_("expected shipment"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    subtotal = MoneyField(_("subtotal"), default=ZERO)
    discount_total = MoneyField(_("discount"), default=ZERO)
    tax_total = MoneyField(_("tax"), default=ZERO)
    total = MoneyField(_("total"), default=ZERO)
    first_viewed_at = models.DateTimeField(_("first viewed in portal"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ordered_on", "-pk"]

    def __str__(self):
        return self.number

    @property
    def subtotal_before_discount(self) -> Decimal:
        """As `Invoice.subtotal_before_discount`: the printed Subtotal, before the line discounts."""
        return self.subtotal + self.discount_total


class SalesOrderLine(LineAmounts):
    sales_order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    quantity_invoiced = models.DecimalField(_("quantity invoiced"), **QUANTITY, default=Decimal("0"))

    class Meta(LineAmounts.Meta):
        pass

    def __str__(self):
        return f"{self.sales_order_id}: {self.description}"


class Subscription(models.Model):
    class Status(models.TextChoices):
        LIVE = "live", _("Live")
        NON_RENEWING = "non_renewing", _("Non-renewing")
        CANCELLED = "cancelled", _("Cancelled")

    class Period(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    plan_name = models.CharField(_("plan"), max_length=200)
    item = models.ForeignKey(Item, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY, default=Decimal("1"))
    price = MoneyField(
        _("price per period"),
        null=True,
        blank=True,
        help_text=_("Empty: the customer's price for the item (its price list, else the group's). Required "
                    "without an item."),
    )
    discount_percent = models.DecimalField(
        _("discount %"),
        **PERCENT,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Empty: the customer's discount (its own, else its group's, else the organisation's)."),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    billing_period = models.CharField(
        _("billing period"), max_length=10, choices=Period.choices, default=Period.MONTHLY
    )
    starts_on = models.DateField(_("start date"))
    next_billing_on = models.DateField(_("next billing date"))
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("Non-renewing subscriptions stop billing after this date.")
    )
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.LIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_billing_on", "pk"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="subscription_price_not_negative")]

    def __str__(self):
        return f"{self.plan_name} — {self.customer}"

    def clean(self):
        super().clean()
        if self.price is None and self.item_id is None:
            raise ValidationError({"price": _("Enter a price, or choose an item to use the customer's price.")})
