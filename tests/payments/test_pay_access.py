"""Pay Now goes through the portal's one view decorator: a contact whose portal access was turned off (or whose
customer's portal is off) gets the no-access page on every pay URL, and nothing is written or removed."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import CheckoutAttempt, Payment, SavedPaymentMethod
from tests.factories import ContactPersonFactory, InvoiceFactory

from .factories import CheckoutAttemptFactory

pytestmark = pytest.mark.django_db


def _pay_requests(invoice, attempt, saved):
    token = attempt.token
    return [
        ("get", reverse("portal:pay-outstanding"), {}),
        (
            "post",
            reverse("portal:pay-outstanding"),
            {"invoice": [invoice.pk], "method": "card", f"amount_{invoice.pk}": "50.00", "currency": "USD"},
        ),
        ("get", reverse("portal:pay-invoice", args=[invoice.pk]), {}),
        (
            "post",
            reverse("portal:pay-invoice", args=[invoice.pk]),
            {"invoice": [invoice.pk], "method": "card", f"amount_{invoice.pk}": "50.00"},
        ),
        ("post", reverse("portal:pay-selected"), {"invoice": [invoice.pk]}),
        ("get", reverse("portal:pay-checkout", args=[token]), {}),
        ("post", reverse("portal:pay-checkout", args=[token]), {"scenario": "card_success"}),
        ("get", reverse("portal:pay-return", args=[token]), {}),
        ("get", reverse("portal:pay-done", args=[token]), {}),
        ("post", reverse("portal:pay-settle", args=[token]), {"outcome": "settle"}),
        ("get", reverse("portal:payment-methods"), {}),
        ("post", reverse("portal:payment-methods"), {"remove": saved.pk}),
    ]


def _turn_off_contact(contact):
    contact.portal_enabled = False
    contact.save(update_fields=["portal_enabled"])


def _turn_off_customer(contact):
    contact.customer.portal_enabled = False
    contact.customer.save(update_fields=["portal_enabled"])


@pytest.mark.parametrize("turn_off", [_turn_off_contact, _turn_off_customer], ids=["contact off", "customer off"])
def test_every_pay_url_shows_the_no_access_page_and_writes_nothing_once_portal_access_is_off(client, turn_off):
    contact = ContactPersonFactory()
    customer = contact.customer
    invoice = InvoiceFactory(customer=customer, total=Decimal("50.00"))
    attempt = CheckoutAttemptFactory(payer=customer, amount=Decimal("50.00"), gateway="sandbox")
    saved = SavedPaymentMethod.objects.create(
        customer=customer,
        gateway="sandbox",
        gateway_customer_id="cus_1",
        gateway_method_id="pm_saved",
        kind=SavedPaymentMethod.Kind.CARD,
        brand="Visa",
        last4="4242",
    )
    turn_off(contact)
    client.force_login(contact.user)

    answers = {}
    for method, url, data in _pay_requests(invoice, attempt, saved):
        response = getattr(client, method)(url, data)
        used = [template.name for template in response.templates]
        answers[f"{method} {url}"] = "no access" if "portal/no_access.html" in used else response.status_code

    assert set(answers.values()) == {"no access"}, answers
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.OPEN and attempt.payment_id is None
    assert CheckoutAttempt.objects.count() == 1 and not Payment.objects.exists()
    assert SavedPaymentMethod.objects.filter(pk=saved.pk).exists()
