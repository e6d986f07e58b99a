from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from portal.selectors import PortalScope


def portal_view(view):
    """Every portal page: login required (to allauth's login page), then portal access, then
    `request.portal_scope` (what this user may see; `portal.selectors.PortalScope`) for the view to pass
    to the selectors as `scope=`.

    A login without portal access gets a clear page, never an empty portal, a pay form or a crash: staff
    logins (no contact person, told to use the back office), a contact whose access was turned off, and a
    contact of a customer whose portal is off.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        contact = getattr(request.user, "contact", None)
        if contact is None or not contact.portal_enabled:
            return render(request, "portal/no_access.html", {"contact": contact})
        scope = PortalScope(request.user)
        if scope.own is None:
            return render(request, "portal/no_access.html", {"contact": contact})
        request.portal_scope = scope
        return view(request, *args, **kwargs)

    return wrapper
