from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def portal_view(view):
    """Login required (to allauth's login page); a login without portal access gets a clear page.

    Staff logins have no contact person: they are told to use the back office instead of
    seeing an empty portal or a crash.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        contact = getattr(request.user, "contact", None)
        if contact is None or not contact.portal_enabled:
            return render(request, "portal/no_access.html", {"contact": contact})
        return view(request, *args, **kwargs)

    return wrapper
