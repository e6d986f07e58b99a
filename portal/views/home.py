from django.shortcuts import render

from billing.selectors.balances import balance_summary, last_payment
from portal import selectors

from .access import portal_view
from .common import PAY_DISABLED_REASON, pay_url


@portal_view
def home(request):
    """Balance summary (per branch and consolidated), last payment, details, contacts, documents.

    A fixed number of queries however many branches or invoices the customer has.
    """
    user = request.user
    visible = selectors.visible_customers(user=user)
    customers = list(visible)
    own = next((c for c in customers if c.pk == user.contact.customer_id), None)
    summary = balance_summary(customers=visible)
    return render(
        request,
        "portal/home.html",
        {
            "customer": own,
            "branches": [c for c in customers if c.pk != user.contact.customer_id],
            "customers": customers,
            "summary": summary,
            "last_payment": last_payment(customers=visible),
            "contacts": list(
                selectors.visible_contacts(user=user).filter(customer_id=user.contact.customer_id)
            ),
            "documents": list(selectors.visible_documents(user=user).select_related("customer")[:5]),
            "pay_outstanding_url": pay_url("pay-outstanding"),
            "pay_disabled_reason": PAY_DISABLED_REASON,
        },
    )
