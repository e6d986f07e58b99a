"""Posting signed Stripe-shaped webhooks to our endpoint, as Stripe does (shared by the webhook tests)."""

from decimal import Decimal

import pytest

from billing.models import CheckoutAttempt, Payment
from tests.factories import InvoiceFactory
from tests.fakes.stripe_events import event, payment_intent, signature_header

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

SECRET = "whsec_test_secret"
URL = "/webhooks/stripe/"


@pytest.fixture
def stripe_webhooks(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_API_BASE = ""


def post(client, payload: bytes):
    return client.post(
        URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature_header(payload, SECRET)
    )


def deliver(client, capture, *payloads):
    """Post each event (Stripe's delivery) and run what the webhook queued after commit (the worker)."""
    responses = []
    for payload in payloads:
        with capture(execute=True):
            responses.append(post(client, payload))
    assert [r.status_code for r in responses] == [200] * len(responses)
    return responses


def paid_card_checkout(client, capture, *, total=Decimal("100.00")) -> CheckoutAttempt:
    """A Stripe card checkout of one invoice, paid in full by the payment_intent.succeeded webhook."""
    attempt = CheckoutAttemptFactory(amount=total)
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=total))
    cents = int(total * 100)
    deliver(
        client,
        capture,
        event("payment_intent.succeeded", payment_intent(attempt.gateway_intent_id, amount=cents, status="succeeded")),
    )
    assert Payment.objects.get(gateway_payment_id=attempt.gateway_intent_id).status == Payment.Status.SUCCEEDED
    attempt.refresh_from_db()
    return attempt
