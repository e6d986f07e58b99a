from django.db.models import Prefetch
from django.shortcuts import render

from billing.models import Invoice
from portal import selectors

from .access import portal_view
from .common import paginate


@portal_view
def subscription_list(request):
    invoices = Invoice.objects.exclude(status=Invoice.Status.DRAFT).order_by("-issued_on", "-pk")
    subscriptions = (
        selectors.visible_subscriptions(user=request.user)
        .select_related("customer", "item")
        .prefetch_related(Prefetch("invoices", queryset=invoices))
        .order_by("status", "next_billing_on")
    )
    customers_count = selectors.visible_customers(user=request.user).count()
    return render(
        request,
        "portal/subscription_list.html",
        {
            "page": paginate(request, subscriptions),
            "show_branch": customers_count > 1,
        },
    )
