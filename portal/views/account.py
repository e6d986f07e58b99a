from allauth.mfa.models import Authenticator
from django.shortcuts import render

from portal import selectors

from .access import portal_view


@portal_view
def my_account(request):
    mfa_on = Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
    return render(
        request,
        "portal/my_account.html",
        {
            "logins": selectors.portal_logins(user=request.user),
            "mfa_on": mfa_on,
        },
    )
