"""Invoices and retainer invoices as the portal shows them: lists, the invoice page, and what Pay Now pays."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from billing.models import CheckoutLine, CreditApplication, CreditNote, Invoice, RetainerApplication
from billing.selectors.balances import allocations_net_of_refunds, outstanding_invoices

from .scope import PortalScope


def sent_invoices(*, scope: PortalScope, retainers: bool = False) -> QuerySet[Invoice]:
    """Regular invoices (or retainer invoices) the customers have been sent: drafts never reach the portal.

    On a page that lists accounts (the invoice list reads `scope.rows` first) they are filtered by the ids,
    never by a subquery: on a parent with 1,000 branches PostgreSQL misjudges the recursive CTE as a
    subquery and walks the invoices in a nested loop (40 ms for one page, < 1 ms with the ids)."""
    invoices = Invoice.objects.retainers() if retainers else Invoice.objects.regular()
    return invoices.filter(scope.customer_filter()).exclude(status=Invoice.Status.DRAFT)


def with_payment_processing(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `payment_processing`: a bank payment for the invoice is still processing, so it
    shows "Payment processing" and cannot be paid again until that payment settles or fails."""
    return invoices.annotate(
        payment_processing=Exists(CheckoutLine.objects.processing().filter(invoice=OuterRef("pk")))
    )


def invoice_page(*, scope: PortalScope, invoice_id: int, retainers: bool = False) -> Invoice | None:
    """One sent invoice (or retainer invoice) with what its page and PDF show: `payment_processing`, the
    customer, the lines, the payments applied net of refunds (so the rows listed as applied add up to what
    the invoice shows as paid), the credit notes and retainers applied. None when it is not visible."""
    return (
        with_payment_processing(sent_invoices(scope=scope, retainers=retainers))
        .select_related("customer")
        .prefetch_related(
            "lines",
            Prefetch("allocations", queryset=allocations_net_of_refunds().select_related("payment")),
            Prefetch("credit_applications", queryset=CreditApplication.objects.select_related("credit_note")),
            Prefetch("retainers_applied", queryset=RetainerApplication.objects.select_related("retainer")),
        )
        .filter(pk=invoice_id)
        .first()
    )


def invoice_to_pay(*, scope: PortalScope, invoice_id: int) -> Invoice | None:
    """A sent invoice or retainer invoice, open or not (the pay page says when nothing is left to pay)."""
    return (
        Invoice.objects.filter(scope.customer_filter())
        .exclude(status=Invoice.Status.DRAFT)
        .select_related("customer")
        .filter(pk=invoice_id)
        .first()
    )


def payable_invoices(*, scope: PortalScope, ids) -> list[Invoice]:
    """The open invoices (and retainers) among `ids` (posted by a pay form), oldest due first, customer joined.
    Shape only: billing.services.online_payments checks every rule again with the invoices locked."""
    return list(
        Invoice.objects.open()
        .filter(scope.customer_filter(), pk__in=ids)
        .select_related("customer")
        .order_by("due_on", "pk")
    )


def outstanding_to_pay(*, scope: PortalScope) -> list[Invoice]:
    """The whole outstanding amount: open regular invoices of every visible account, oldest due first."""
    return list(outstanding_invoices(customers=scope.customers))


def processing_invoice_ids(*, invoices) -> set[int]:
    """Which of these invoices wait for a bank payment that is processing (they cannot be paid again)."""
    return set(CheckoutLine.objects.processing().filter(invoice__in=invoices).values_list("invoice_id", flat=True))


@dataclass(frozen=True)
class PayNowState:
    """Whether home's Pay Now has anything to pay: open invoices without a bank payment processing
    (`payable`), and whether some open invoices wait for one (`processing`)."""

    payable: bool
    processing: bool


def invoices_awaiting_bank_payment(*, scope: PortalScope) -> QuerySet[Invoice]:
    """Open regular invoices of the visible accounts that wait for a bank payment still processing (they
    cannot be paid again until it settles or fails). Driven from the processing checkout lines, which are
    few, so PostgreSQL reads those invoices by primary key instead of scanning a thousand branches' open
    invoices (the EXISTS this replaces took ~6 ms at 1,000 branches)."""
    return (
        Invoice.objects.open()
        .regular()
        .filter(scope.customer_filter(), pk__in=CheckoutLine.objects.processing().values("invoice_id"))
    )


def pay_now_state(*, outstanding: Decimal, awaiting_bank_payment: Decimal) -> PayNowState:
    """What Pay Now (the whole outstanding amount) would pay, from two sums the home page reads anyway
    (`portal.balances.balance_breakdown`): `outstanding`, the kept balance due of every open regular
    invoice of the visible accounts (`AccountBalance.outstanding_invoices`, proven by check_ledger), and
    `awaiting_bank_payment`, the balance due of those among them with a bank payment processing
    (`invoices_awaiting_bank_payment`). An open invoice's balance due is above zero, so some invoice waits
    exactly when the second sum is above zero, and some invoice does not exactly when the first is larger
    (whatever the currencies: every term is positive)."""
    return PayNowState(payable=outstanding > awaiting_bank_payment, processing=awaiting_bank_payment > 0)


def visible_credit_notes(*, scope: PortalScope) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(scope.customer_filter()).exclude(status=CreditNote.Status.VOID)
