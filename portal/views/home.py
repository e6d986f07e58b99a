from django.shortcuts import render

from portal import selectors
from portal.balances import balance_breakdown

from .access import portal_view


@portal_view
def home(request):
    """Balance summary (consolidated, and per account one page at a time), last payment, details,
    contacts, documents.

    A fixed number of queries however many branches or invoices the customer has.
    """
    scope = request.portal_scope.read()  # one recursive query: every list below filters by the ids
    summary = balance_breakdown(
        customers=scope.customers,
        page_number=request.GET.get("accounts"),
        awaiting=selectors.invoices_awaiting_bank_payment(scope=scope),  # read with the figures, no query of its own
    )
    return render(
        request,
        "portal/home.html",
        {
            "customer": scope.own,
            "branch_count": summary.accounts - 1,
            "summary": summary,
            "pay_now": selectors.pay_now_state(
                outstanding=summary.total.outstanding_invoices, awaiting_bank_payment=summary.awaiting_bank_payment
            ),
            "last_payment": selectors.last_payment(scope=scope),
            "contacts": list(selectors.own_contacts(scope=scope)),
            "documents": list(selectors.visible_documents(scope=scope).select_related("customer")[:5]),
        },
    )
