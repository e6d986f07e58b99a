"""StripeGateway with US bank accounts (ACH) against recorded Stripe responses on a local HTTP server."""

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import stripe

from billing.gateways.sandbox import SandboxGateway
from billing.gateways.stripe_gateway import StripeGateway
from billing.models import CheckoutAttempt, GatewayCustomer, Invoice, Payment, SavedPaymentMethod
from billing.services.online_payments import begin_saving_method, confirm_checkout, refresh_checkout, start_checkout
from tests.fakes import stripe_ach_recordings as rec
from tests.fakes.stripe_servers import recorded_stripe

from .factories import CheckoutAttemptFactory

pytestmark = pytest.mark.django_db
PI = f"/v1/payment_intents/{rec.INTENT_ID}"


@pytest.fixture
def stripe_settings(settings):
    default = stripe.api_base
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_recorded"
    yield settings
    stripe.api_base = default


def _saved_bank(customer):
    return SavedPaymentMethod.objects.create(
        customer=customer,
        gateway="stripe",
        gateway_customer_id=rec.CUSTOMER_ID,
        gateway_method_id=rec.METHOD_ID,
        kind="us_bank_account",
        brand="STRIPE TEST BANK",
        last4="6789",
    )


def test_an_ach_intent_asks_stripe_for_a_us_bank_account_with_our_idempotency_key(stripe_settings):
    with recorded_stripe({("POST", "/v1/payment_intents"): [(200, rec.CREATED)]}) as (server, url):
        stripe_settings.STRIPE_API_BASE = url
        intent = StripeGateway().create_payment_intent(
            amount=Decimal("120.00"), currency="USD", method_kind="us_bank_account", idempotency_key="checkout-k1"
        )

    sent = server.seen[0]
    form = parse_qs(sent["body"])
    assert sent["idempotency_key"] == "checkout-k1"
    assert form["amount"] == ["12000"] and form["currency"] == ["usd"]
    assert form["payment_method_types[0]"] == ["us_bank_account"]
    assert (intent.id, intent.method_kind, intent.amount) == (rec.INTENT_ID, "us_bank_account", Decimal("120.00"))


def test_a_saved_bank_account_payment_is_pending_then_settles_on_a_server_side_retrieve(
    stripe_settings, head_office, django_capture_on_commit_callbacks
):
    invoice = head_office["east_invoice"]
    routes = {
        ("POST", "/v1/payment_intents"): [(200, rec.CONFIRMABLE)],
        ("POST", f"{PI}/confirm"): [(200, rec.PROCESSING)],
        ("GET", PI): [(200, rec.PROCESSING), (200, rec.SUCCEEDED)],
    }
    with recorded_stripe(routes) as (server, url):
        stripe_settings.STRIPE_API_BASE = url
        attempt = start_checkout(
            payer=head_office["hq"],
            allocations={invoice.pk: Decimal("120.00")},
            currency="USD",
            method=Payment.Method.ACH,
            saved_method=_saved_bank(head_office["hq"]),
        )
        with django_capture_on_commit_callbacks(execute=True):
            after_confirm = confirm_checkout(attempt=attempt).status
        pending = Payment.objects.get()
        after_first_look = refresh_checkout(attempt=attempt).status
        with django_capture_on_commit_callbacks(execute=True):
            after_second_look = refresh_checkout(attempt=attempt).status

    assert after_confirm == CheckoutAttempt.Status.PROCESSING and pending.status == Payment.Status.PENDING
    assert after_first_look == CheckoutAttempt.Status.PROCESSING
    assert after_second_look == CheckoutAttempt.Status.SUCCEEDED
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("0.00")
    assert [(r["method"], r["path"]) for r in server.seen][:2] == [
        ("POST", "/v1/payment_intents"),
        ("POST", f"{PI}/confirm"),
    ]


def test_a_returned_bank_debit_fails_the_payment_and_frees_the_invoice(
    stripe_settings, head_office, django_capture_on_commit_callbacks
):
    invoice = head_office["east_invoice"]
    routes = {
        ("POST", "/v1/payment_intents"): [(200, rec.CONFIRMABLE)],
        ("POST", f"{PI}/confirm"): [(200, rec.PROCESSING)],
        ("GET", PI): [(200, rec.FAILED)],
    }
    with recorded_stripe(routes) as (_server, url):
        stripe_settings.STRIPE_API_BASE = url
        attempt = start_checkout(
            payer=head_office["hq"],
            allocations={invoice.pk: Decimal("120.00")},
            currency="USD",
            method=Payment.Method.ACH,
            saved_method=_saved_bank(head_office["hq"]),
        )
        confirm_checkout(attempt=attempt)
        failed = refresh_checkout(attempt=attempt)

    assert failed.status == CheckoutAttempt.Status.FAILED and "insufficient funds" in failed.failure_reason
    assert Payment.objects.get().status == Payment.Status.FAILED
    assert Invoice.objects.get(pk=invoice.pk).balance_due == Decimal("120.00")
    again = start_checkout(
        payer=head_office["hq"],
        allocations={invoice.pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=SandboxGateway(),
    )
    assert again.status == CheckoutAttempt.Status.OPEN


def test_a_bank_account_reads_as_its_bank_and_last_four(stripe_settings):
    with recorded_stripe({("GET", f"/v1/payment_methods/{rec.METHOD_ID}"): [(200, rec.BANK_METHOD)]}) as (_s, url):
        stripe_settings.STRIPE_API_BASE = url
        method = StripeGateway().retrieve_payment_method(rec.METHOD_ID)

    assert (method.kind, method.brand, method.last4) == ("us_bank_account", "STRIPE TEST BANK", "6789")


def test_reloading_the_save_and_pay_page_asks_stripe_for_one_setup_intent(stripe_settings, head_office):
    payer = head_office["hq"]
    GatewayCustomer.objects.create(customer=payer, gateway="stripe", gateway_customer_id=rec.CUSTOMER_ID)
    attempt = CheckoutAttemptFactory(payer=payer, save_method=True, method=Payment.Method.ACH)
    setup = {
        "id": "seti_rec1",
        "object": "setup_intent",
        "status": "requires_payment_method",
        "client_secret": "seti_rec1_secret_x",
        "customer": rec.CUSTOMER_ID,
        "payment_method": None,
    }

    with recorded_stripe({("POST", "/v1/setup_intents"): [(200, setup)]}) as (server, url):
        stripe_settings.STRIPE_API_BASE = url
        first = begin_saving_method(attempt=attempt)
        again = begin_saving_method(attempt=attempt)

    keys = [sent["idempotency_key"] for sent in server.seen]
    assert len(keys) == 2 and keys[0] == keys[1] and attempt.idempotency_key in keys[0]
    assert first.client_secret == again.client_secret
