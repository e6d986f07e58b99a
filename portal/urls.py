from django.urls import include, path

from .views import account, home

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("my-account/", account.my_account, name="my-account"),
    path("pay/", include("portal.payments_urls")),
]
