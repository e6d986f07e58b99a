from django.shortcuts import render

from portal import selectors

from .access import portal_view
from .common import paginate


@portal_view
def subscription_list(request):
    scope = request.portal_scope
    return render(
        request,
        "portal/subscription_list.html",
        {
            "show_branch": scope.has_branches,
            "page": paginate(request, selectors.subscriptions_with_invoices(scope=scope)),
        },
    )
