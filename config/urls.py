from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from portal.views import staff_login

admin.site.site_header = "Billing back office"
admin.site.site_title = "Billing back office"
admin.site.index_title = "Customers, invoices and payments"

urlpatterns = [
    # Browsers ask for /favicon.ico on every site, admin pages included.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    # Staff sign in through allauth like customers (TOTP, rate limits): the admin's own login hands over.
    path("admin/login/", staff_login.admin_login),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("billing.urls")),
    path("", include("portal.urls")),
]
# No media URL, DEBUG or not: shared documents are private and leave only through download views
# that check who may see them (portal/documents.py).
