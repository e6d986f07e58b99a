from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def admin_login(request):
    """The admin's login page hands over to allauth's, where staff sign in like customers (TOTP included).

    It never checks a password: a POST is answered like a GET, so the admin's own password form (which
    knew nothing of TOTP or rate limits) is gone. `next` is kept, defaulting to the back office.
    Like allauth's `secure_admin_login`, except that a signed-in non-staff login gets a page saying
    what to do rather than a bare 403.
    """
    next_url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = reverse("admin:index")
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
    if admin.site.has_permission(request):
        return redirect(next_url)
    # Signed in, but not as staff: allauth's login page would send this login straight back here.
    login_again = f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return render(request, "account/no_back_office_access.html", {"login_again": login_again})
