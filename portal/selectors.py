"""Portal reads. Every one starts from `billing.selectors.visible_customers`; nothing in portal/
filters by customer any other way, so an object outside the user's tree is simply not found."""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, QuerySet

from billing.models import (
    CheckoutLine,
    ContactPerson,
    CreditNote,
    Customer,
    Invoice,
    Payment,
    SalesOrder,
    Subscription,
)
from billing.selectors import visible_customers
from billing.selectors.customers import visible_customer_ids, visible_root
from billing.selectors.sql import IdIn, Ids

from .models import Comment, PortalLogin, SharedDocument, StatementPdf

__all__ = [
    "visible_comments",
    "visible_contacts",
    "visible_credit_notes",
    "visible_customers",
    "visible_customers_listed",
    "visible_customers_once",
    "visible_documents",
    "visible_statement_pdfs",
    "visible_invoices",
    "invoice_list_scope",
    "InvoiceListScope",
    "visible_payments",
    "visible_retainers",
    "visible_sales_orders",
    "visible_subscriptions",
    "with_payment_processing",
    "pay_now_state",
    "PayNowState",
    "own_customer",
    "portal_logins",
]


def visible_invoices(*, user) -> QuerySet[Invoice]:
    """Regular invoices the customer has been sent (drafts never reach the portal)."""
    return (
        Invoice.objects.regular()
        .filter(customer__in=visible_customers(user=user))
        .exclude(status=Invoice.Status.DRAFT)
    )


def visible_retainers(*, user) -> QuerySet[Invoice]:
    return (
        Invoice.objects.retainers()
        .filter(customer__in=visible_customers(user=user))
        .exclude(status=Invoice.Status.DRAFT)
    )


@dataclass(frozen=True)
class InvoiceListScope:
    """What an invoice list reads before its filters: the visible customers (read once, for the account
    select, the account column and the filter) and the invoices of exactly those customers."""

    customers: list  # (pk, display_name) named rows, unordered
    invoices: QuerySet[Invoice]

    @property
    def names(self) -> dict[int, str]:
        return {customer.pk: customer.display_name for customer in self.customers}


def invoice_list_scope(*, user, retainers: bool = False) -> InvoiceListScope:
    """Visible customers as (pk, display_name) rows in one query, and their sent invoices (regular, or
    retainer invoices with `retainers`) filtered by those ids, never by a subquery: on a parent with
    1,000 branches PostgreSQL misjudges the recursive CTE as a subquery and walks the invoices in a nested
    loop (40 ms for one page, < 1 ms with the ids)."""
    customers = list(visible_customers(user=user).order_by().values_list("pk", "display_name", named=True))
    invoices = Invoice.objects.retainers() if retainers else Invoice.objects.regular()
    return InvoiceListScope(
        customers=customers,
        invoices=invoices.filter(IdIn(F("customer_id"), [c.pk for c in customers]))
        .exclude(status=Invoice.Status.DRAFT),
    )


def with_payment_processing(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate `payment_processing`: a bank payment for the invoice is still processing, so it
    shows "Payment processing" and cannot be paid again until that payment settles or fails."""
    return invoices.annotate(
        payment_processing=Exists(CheckoutLine.objects.processing().filter(invoice=OuterRef("pk")))
    )


@dataclass(frozen=True)
class PayNowState:
    """Whether home's Pay Now has anything to pay: open invoices without a bank payment processing
    (`payable`), and whether some open invoices wait for one (`processing`)."""

    payable: bool
    processing: bool


def pay_now_state(*, customers: QuerySet[Customer]) -> PayNowState:
    """What Pay Now (the whole outstanding amount) would pay for these customers, in one query (two EXISTS,
    each stopping at its first row). An invoice whose ACH payment is processing can't be paid again until
    that payment settles or fails, so when every open invoice waits for one, Pay Now pays nothing."""
    processing = CheckoutLine.objects.processing().filter(invoice=OuterRef("pk"))
    open_invoices = Invoice.objects.open().regular().filter(customer__in=customers)
    # Read on any one customer row: the two flags don't depend on it (no customers: nothing to pay).
    flags = (
        customers.order_by()
        .annotate(
            payable=Exists(open_invoices.exclude(Exists(processing))),
            processing=Exists(open_invoices.filter(Exists(processing))),
        )
        .values_list("payable", "processing")[:1]
    )
    return PayNowState(*next(iter(flags), (False, False)))


def visible_payments(*, user) -> QuerySet[Payment]:
    """Payments received or in progress; failed attempts are not payments made."""
    return Payment.objects.filter(customer__in=visible_customers(user=user)).exclude(
        status=Payment.Status.FAILED
    )


def visible_credit_notes(*, user) -> QuerySet[CreditNote]:
    return CreditNote.objects.filter(customer__in=visible_customers(user=user)).exclude(
        status=CreditNote.Status.VOID
    )


def visible_sales_orders(*, user) -> QuerySet[SalesOrder]:
    return SalesOrder.objects.filter(customer__in=visible_customers(user=user)).exclude(
        status=SalesOrder.Status.DRAFT
    )


def visible_subscriptions(*, user) -> QuerySet[Subscription]:
    return Subscription.objects.filter(customer__in=visible_customers(user=user))


def visible_customers_once(*, user) -> QuerySet[Customer]:
    """`visible_customers`, with its ids read now (one query): the queryset filters by that list, so the
    queries a page builds on it skip the recursive subquery (~1.5 ms each at 1,000 branches). Build it
    once per request and pass it as `visible=` to the selectors below."""
    return Customer.objects.filter(IdIn(F("pk"), visible_customer_ids(user=user)))


def visible_customers_listed(*, user, fields: tuple[str, ...] = ("pk", "display_name")
                             ) -> tuple[list[Customer], QuerySet[Customer]]:
    """The visible customers read now with only `fields` (one query), and a queryset of exactly those
    customers by their ids: for a page that lists them (a branch select) and reads more about them later,
    without the recursive subquery a second time (~1.5 ms at 1,000 branches) and without a query of its own."""
    listed = list(visible_customers(user=user).only(*fields))
    return listed, Customer.objects.filter(IdIn(F("pk"), Ids(customer.pk for customer in listed)))


def _visible(user, visible: QuerySet[Customer] | None) -> QuerySet[Customer]:
    return visible_customers(user=user) if visible is None else visible


def visible_contacts(*, user, visible: QuerySet[Customer] | None = None) -> QuerySet[ContactPerson]:
    return ContactPerson.objects.filter(customer__in=_visible(user, visible))


def visible_documents(*, user, visible: QuerySet[Customer] | None = None) -> QuerySet[SharedDocument]:
    return SharedDocument.objects.filter(customer__in=_visible(user, visible))


def visible_statement_pdfs(*, user) -> QuerySet[StatementPdf]:
    """Statement PDFs this contact asked for, while their addressee is still one of its customers: nobody
    else's, however the id is guessed, and none once the contact's access is gone."""
    return StatementPdf.objects.filter(requested_by=user, for_staff=False, customer__in=visible_customers(user=user))


def visible_comments(*, user) -> QuerySet[Comment]:
    return Comment.objects.filter(customer__in=visible_customers(user=user))


def own_customer(*, user) -> Customer | None:
    """The contact's own customer (the top of what it sees), or None for a user without access."""
    return visible_root(user=user)


def portal_logins(*, user, limit: int = 20) -> list[PortalLogin]:
    return list(PortalLogin.objects.filter(user=user).order_by("-logged_in_at")[:limit])
