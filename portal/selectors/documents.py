"""The portal's other reads: sales orders, subscriptions, contacts, shared documents, statement PDFs,
comments, and the login's own records."""

from allauth.mfa.models import Authenticator
from django.db.models import Prefetch, QuerySet

from billing.models import ContactPerson, Invoice, SalesOrder, Subscription
from portal.models import Comment, PortalLogin, SharedDocument, StatementPdf

from .scope import PortalScope


def visible_sales_orders(*, scope: PortalScope) -> QuerySet[SalesOrder]:
    """Sales orders the customers have been sent (drafts never reach the portal), customer joined."""
    return (
        SalesOrder.objects.filter(scope.customer_filter())
        .exclude(status=SalesOrder.Status.DRAFT)
        .select_related("customer")
    )


def not_invoiced(orders: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
    """Orders still to be invoiced, in full or in part (a void order never will be)."""
    return orders.exclude(invoiced_status=SalesOrder.InvoicedStatus.INVOICED).exclude(status=SalesOrder.Status.VOID)


def sales_order_page(*, scope: PortalScope, order_id: int) -> SalesOrder | None:
    """One sent sales order with its lines and invoices, or None when it is not visible."""
    return visible_sales_orders(scope=scope).prefetch_related("lines", "invoices").filter(pk=order_id).first()


def subscriptions_with_invoices(*, scope: PortalScope) -> QuerySet[Subscription]:
    """The customers' subscriptions (active first, then by next billing date), each with its sent invoices,
    newest first, prefetched: one query for the page of subscriptions, one for their invoices."""
    invoices = Invoice.objects.exclude(status=Invoice.Status.DRAFT).order_by("-issued_on", "-pk")
    return (
        Subscription.objects.filter(scope.customer_filter())
        .select_related("customer", "item")
        .prefetch_related(Prefetch("invoices", queryset=invoices))
        .order_by("status", "next_billing_on")
    )


def own_contacts(*, scope: PortalScope) -> QuerySet[ContactPerson]:
    """The contact persons of the contact's own customer (visible by definition: it tops the tree)."""
    return ContactPerson.objects.filter(customer=scope.own)


def visible_documents(*, scope: PortalScope) -> QuerySet[SharedDocument]:
    return SharedDocument.objects.filter(scope.customer_filter())


def visible_statement_pdfs(*, scope: PortalScope) -> QuerySet[StatementPdf]:
    """Statement PDFs this contact asked for, while their addressee is still one of its customers: nobody
    else's, however the id is guessed, and none once the contact's access is gone."""
    return StatementPdf.objects.filter(scope.customer_filter(), requested_by=scope.user, for_staff=False)


def visible_comments(*, scope: PortalScope) -> QuerySet[Comment]:
    return Comment.objects.filter(scope.customer_filter())


def portal_logins(*, user, limit: int = 20) -> list[PortalLogin]:
    return list(PortalLogin.objects.filter(user=user).order_by("-logged_in_at")[:limit])


def uses_authenticator_app(*, user) -> bool:
    """The login has a TOTP authenticator (My account offers to turn it off rather than on)."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
