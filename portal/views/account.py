from django.shortcuts import render

from portal import selectors

from .access import portal_view


@portal_view
def my_account(request):
    return render(
        request,
        "portal/my_account.html",
        {
            "logins": selectors.portal_logins(user=request.user),
            "mfa_on": selectors.uses_authenticator_app(user=request.user),
        },
    )
