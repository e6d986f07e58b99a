from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, render

from billing.models import Allocation
from billing.money import ZERO
from billing.selectors.balances import allocations_net_of_refunds, held_by_disputes
from portal import selectors
from portal.forms import PaymentFilterForm
from portal.pdf import pdf_response

from .access import portal_view
from .common import branches_of, paginate


def _with_kind(queryset):
    paid_retainer = Allocation.objects.filter(payment=OuterRef("pk"), invoice__is_retainer=True)
    paid_invoice = Allocation.objects.filter(payment=OuterRef("pk"), invoice__is_retainer=False)
    return queryset.annotate(pays_retainer=Exists(paid_retainer), pays_invoice=Exists(paid_invoice))


@portal_view
def payment_list(request):
    customers = list(selectors.visible_customers(user=request.user))
    form = PaymentFilterForm(request.GET or None, branches=branches_of(customers))
    payments = _with_kind(selectors.visible_payments(user=request.user).select_related("customer"))
    sort = "-paid_on"
    if form.is_valid():
        kind = form.cleaned_data.get("kind")
        if kind == "retainer":
            payments = payments.filter(pays_retainer=True)
        elif kind == "invoice":
            payments = payments.filter(pays_retainer=False)
        if form.cleaned_data.get("branch"):
            payments = payments.filter(customer_id=form.cleaned_data["branch"])
        sort = form.cleaned_data.get("sort") or sort
    page = paginate(request, payments.order_by(sort, "-pk"))
    return render(
        request,
        "portal/payment_list.html",
        {
            "page": page,
            "form": form,
            "show_branch": len(customers) > 1,
        },
    )


def _payment(user, payment_id: int):
    """The payment with its allocations net of refunds, and `applied` (their sum): the receipt's applied,
    refunded and unapplied amounts add up to the amount received."""
    payment = get_object_or_404(
        selectors.visible_payments(user=user)
        .select_related("customer")
        .prefetch_related(
            Prefetch("allocations", queryset=allocations_net_of_refunds().select_related("invoice__customer"))
        ),
        pk=payment_id,
    )
    payment.applied = sum((a.net_amount for a in payment.allocations.all()), ZERO)
    # Money a card dispute holds is a refund-like row in the ledger; the customer reads it as disputed.
    payment.disputed_amount = held_by_disputes(payment=payment)
    payment.refunded_only = payment.refunded_amount - payment.disputed_amount
    return payment


@portal_view
def payment_detail(request, payment_id: int):
    payment = _payment(request.user, payment_id)
    return render(request, "portal/payment_detail.html", {"payment": payment})


@portal_view
def payment_pdf(request, payment_id: int):
    payment = _payment(request.user, payment_id)
    return pdf_response("pdf/receipt.html", {"payment": payment}, filename=f"Receipt-{payment.number}.pdf")
