"""A payment method is saved only after a payment with it succeeds: a declined card is never saved,
never offered again; a bank account is saved once its debit settles, not while it is processing."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.gateways.sandbox import SandboxGateway
from billing.models import CheckoutAttempt, Payment, SandboxObject, SavedPaymentMethod
from billing.services.online_payments import (
    confirm_checkout,
    save_method_after_success,
    settle_sandbox_payment,
    start_checkout,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, head_office):
    client.force_login(head_office["contact"].user)
    return client


def _start(client, invoice, *, method="card"):
    return client.post(
        reverse("portal:pay-outstanding"),
        {"currency": "USD", "method": method, "save_method": "on", "invoice": [invoice.pk],
         f"amount_{invoice.pk}": str(invoice.balance_due)},
    )["Location"]


def test_a_declined_card_with_save_ticked_is_not_saved_nor_offered_next_time(
    logged_in, head_office, django_capture_on_commit_callbacks
):
    checkout = _start(logged_in, head_office["east_invoice"])

    with django_capture_on_commit_callbacks(execute=True):
        declined = logged_in.post(checkout, {"scenario": "card_decline"})
    offered = logged_in.get(reverse("portal:pay-outstanding")).content.decode()
    methods = logged_in.get(reverse("portal:payment-methods")).content.decode()

    assert "declined" in declined.content.decode().lower()
    assert not SavedPaymentMethod.objects.exists()
    assert "Saved:" not in offered and "0002" not in offered and "0002" not in methods
    # nor attached to the payer at the gateway
    assert [m.data["customer"] for m in SandboxObject.objects.filter(kind="payment_method")] == [None]


def test_after_a_decline_the_card_that_pays_is_the_one_saved(
    logged_in, head_office, django_capture_on_commit_callbacks
):
    checkout = _start(logged_in, head_office["east_invoice"])
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(checkout, {"scenario": "card_decline"})

    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(checkout, {"scenario": "card_success"})

    saved = SavedPaymentMethod.objects.get()
    assert (saved.last4, saved.customer) == ("4242", head_office["hq"])
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


@pytest.mark.parametrize("settles", [True, False])
def test_a_bank_account_is_saved_only_once_its_debit_settles(
    logged_in, head_office, django_capture_on_commit_callbacks, settles
):
    checkout = _start(logged_in, head_office["east_invoice"], method="ach")
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(checkout, {"scenario": "ach_settles" if settles else "ach_fails"})
    attempt = CheckoutAttempt.objects.get()
    saved_while_processing = SavedPaymentMethod.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        settle_sandbox_payment(attempt=attempt, succeed=settles)

    assert attempt.status == CheckoutAttempt.Status.PROCESSING and not saved_while_processing
    assert SavedPaymentMethod.objects.filter(kind="us_bank_account").exists() == settles


def test_saving_after_success_is_safe_to_repeat(head_office, django_capture_on_commit_callbacks):
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        save_method=True,
        gateway=gateway,
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirm_checkout(
            attempt=attempt, payment_method_id=gateway.create_payment_method(scenario="card_success"), gateway=gateway
        )

    again = save_method_after_success(attempt_id=attempt.pk)

    assert SavedPaymentMethod.objects.get() == again
