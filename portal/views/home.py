from django.shortcuts import render

from billing.selectors.balances import last_payment
from portal import selectors
from portal.balances import balance_breakdown

from .access import portal_view


@portal_view
def home(request):
    """Balance summary (consolidated, and per account one page at a time), last payment, details,
    contacts, documents.

    A fixed number of queries however many branches or invoices the customer has.
    """
    user = request.user
    visible = selectors.visible_customers_once(user=user)  # read once, for every list below
    own = selectors.own_customer(user=user)
    if own is None:  # the contact's customer has its portal turned off: nothing is visible
        return render(request, "portal/no_access.html", {"contact": user.contact})
    summary = balance_breakdown(customers=visible, page_number=request.GET.get("accounts"))
    return render(
        request,
        "portal/home.html",
        {
            "customer": own,
            "branch_count": summary.accounts - 1,
            "summary": summary,
            "pay_now": selectors.pay_now_state(customers=visible),
            "last_payment": last_payment(customers=visible),
            "contacts": list(
                selectors.visible_contacts(user=user, visible=visible).filter(customer_id=own.pk)
            ),
            "documents": list(selectors.visible_documents(user=user, visible=visible).select_related("customer")[:5]),
        },
    )
