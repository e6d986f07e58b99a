from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect


class StaffMfaRequiredMiddleware:
    """With STAFF_MFA_REQUIRED, a staff or superuser login without TOTP reaches only the account pages.

    Every other page (the back office first of all) sends it to allauth's TOTP activation, so a
    staff password alone never opens the admin. The account pages stay open: enrolment needs the
    reauthentication and activation views, and the person must be able to log out.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_MFA_REQUIRED:
            return None
        user = request.user
        if not (user.is_authenticated and (user.is_staff or user.is_superuser)):
            return None
        url_name = request.resolver_match.url_name or ""
        if url_name.startswith(("account_", "mfa_")):  # allauth's pages
            return None
        if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            return None
        if "image/" not in request.headers.get("Accept", ""):  # a page, not the browser's favicon fetch
            messages.warning(request, "Staff logins need two-factor authentication: set up an authenticator "
                                      "app to continue to the back office.")
        return redirect("mfa_activate_totp")
