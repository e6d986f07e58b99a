"""Pay Now URLs, included by portal/urls.py under "pay/" in the portal namespace (so no app_name here)."""

from django.urls import path

from .views import pay

urlpatterns = [
    path("", pay.pay_outstanding, name="pay-outstanding"),
    path("invoice/<int:invoice_id>/", pay.pay_invoice, name="pay-invoice"),
    path("selected/", pay.pay_selected, name="pay-selected"),
    path("checkout/<uuid:token>/", pay.checkout, name="pay-checkout"),
    path("checkout/<uuid:token>/return/", pay.checkout_return, name="pay-return"),
    path("checkout/<uuid:token>/done/", pay.checkout_done, name="pay-done"),
    path("checkout/<uuid:token>/settle/", pay.checkout_settle, name="pay-settle"),
    path("methods/", pay.payment_methods, name="payment-methods"),
]
