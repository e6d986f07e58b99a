import time
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Allocation, CheckoutAttempt, GatewayEvent, Invoice, Payment, Refund
from tests.factories import InvoiceFactory
from tests.fakes.stripe_events import charge_refunded, event, payment_intent, signature_header

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"
URL = "/webhooks/stripe/"


@pytest.fixture(autouse=True)
def _stripe(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_unused"
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def checkout():
    """An ACH checkout of 100.00 for one invoice, waiting for Stripe."""
    attempt = CheckoutAttemptFactory(method=Payment.Method.ACH)
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))
    return attempt


def _post(client, payload: bytes, *, header: str | None = None):
    return client.post(
        URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header if header is not None else signature_header(payload, SECRET),
    )


def _intent_event(attempt, status, *, amount=10000, failure="", event_id=None):
    return event(
        f"payment_intent.{status}" if status != "failed" else "payment_intent.payment_failed",
        payment_intent(
            attempt.gateway_intent_id,
            amount=amount,
            kind="us_bank_account",
            status="requires_payment_method" if status == "failed" else status,
            failure=failure,
        ),
        event_id=event_id,
    )


def test_the_url_is_the_stripe_webhook_endpoint():
    assert reverse("billing:stripe-webhook") == URL


def test_a_valid_succeeded_event_records_one_allocated_payment(client, checkout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _intent_event(checkout, "succeeded"))

    assert response.status_code == 200
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.gateway_payment_id) == (
        "succeeded",
        Decimal("100.00"),
        checkout.gateway_intent_id,
    )
    assert Allocation.objects.get().amount == Decimal("100.00")
    assert GatewayEvent.objects.get().applied_at is not None


def test_a_bad_signature_is_refused_and_nothing_is_recorded(client, checkout, django_capture_on_commit_callbacks):
    payload = _intent_event(checkout, "succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, payload, header=signature_header(payload, "whsec_someone_else"))

    assert response.status_code == 400
    assert not GatewayEvent.objects.exists() and not Payment.objects.exists()


def test_a_missing_signature_is_refused(client, checkout):
    response = _post(client, _intent_event(checkout, "succeeded"), header="")

    assert response.status_code == 400
    assert not GatewayEvent.objects.exists()


def test_a_stale_timestamp_is_refused_even_with_the_right_secret(client, checkout):
    payload = _intent_event(checkout, "succeeded")

    response = _post(client, payload, header=signature_header(payload, SECRET, timestamp=int(time.time()) - 600))

    assert response.status_code == 400
    assert not GatewayEvent.objects.exists() and not Payment.objects.exists()


def test_a_payload_changed_after_signing_is_refused(client, checkout):
    payload = _intent_event(checkout, "succeeded")
    header = signature_header(payload, SECRET)

    response = _post(client, payload.replace(b"10000", b"1"), header=header)

    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_an_event_replayed_three_times_records_one_payment(client, checkout, django_capture_on_commit_callbacks):
    payload = _intent_event(checkout, "succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [_post(client, payload).status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert GatewayEvent.objects.count() == 1
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1


def test_processing_arriving_after_succeeded_changes_nothing(client, checkout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "succeeded"))
        _post(client, _intent_event(checkout, "processing"))

    checkout.refresh_from_db()
    assert checkout.status == CheckoutAttempt.Status.SUCCEEDED
    assert list(Payment.objects.values_list("status", flat=True)) == ["succeeded"]
    assert Invoice.objects.get().balance_due == Decimal("0.00")
    assert "ignored" in GatewayEvent.objects.get(type="payment_intent.processing").outcome


def test_succeeded_after_processing_completes_the_pending_payment(client, checkout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "processing"))
    pending = Payment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "succeeded"))

    assert pending.status == Payment.Status.PENDING
    assert list(Payment.objects.values_list("pk", "status")) == [(pending.pk, "succeeded")]
    assert Allocation.objects.get().amount == Decimal("100.00")


def test_a_failure_arriving_before_processing_leaves_the_ach_payment_failed(
    client, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "failed", failure="The bank returned the debit."))
        _post(client, _intent_event(checkout, "processing"))

    checkout.refresh_from_db()
    assert checkout.status == CheckoutAttempt.Status.FAILED
    assert not Payment.objects.filter(status__in=["pending", "succeeded"]).exists()
    assert Invoice.objects.get().balance_due == Decimal("100.00")


def test_an_amount_other_than_asked_records_no_payment(client, checkout, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "succeeded", amount=100))

    checkout.refresh_from_db()
    assert not Payment.objects.exists()
    assert checkout.status == CheckoutAttempt.Status.FAILED and "100.00" in checkout.failure_reason


def test_an_event_for_an_unknown_intent_is_stored_and_ignored(client, django_capture_on_commit_callbacks):
    payload = event("payment_intent.succeeded", payment_intent("pi_not_ours", amount=500, status="succeeded"))

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, payload)

    assert response.status_code == 200
    assert not Payment.objects.exists()
    assert GatewayEvent.objects.get().outcome.startswith("ignored")


def test_charge_refunded_records_the_refund_once_and_reopens_the_invoice(
    client, checkout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "succeeded"))
    refunded = event(
        "charge.refunded",
        charge_refunded(checkout.gateway_intent_id, amount=10000, refunds=[("re_test_1", 2500)]),
    )

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, refunded)
        _post(client, refunded)

    refund = Refund.objects.get()
    assert (refund.amount, refund.gateway_refund_id) == (Decimal("25.00"), "re_test_1")
    assert Payment.objects.get().refunded_amount == Decimal("25.00")
    assert Invoice.objects.get().balance_due == Decimal("25.00")


def test_charge_refunded_arriving_before_succeeded_is_recorded_once_the_payment_is(
    client, checkout, django_capture_on_commit_callbacks
):
    refunded = event(
        "charge.refunded",
        charge_refunded(checkout.gateway_intent_id, amount=10000, refunds=[("re_early_1", 4000)]),
    )

    with django_capture_on_commit_callbacks(execute=True):
        early = _post(client, refunded)
    waiting = GatewayEvent.objects.get(type="charge.refunded")
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _intent_event(checkout, "succeeded"))
        _post(client, refunded)  # Stripe retries it too: still one refund

    assert early.status_code == 200
    assert waiting.applied_at is None and "waiting" in waiting.outcome
    refund = Refund.objects.get()
    assert (refund.amount, refund.gateway_refund_id) == (Decimal("40.00"), "re_early_1")
    assert Payment.objects.get().refunded_amount == Decimal("40.00")
    assert Invoice.objects.get().balance_due == Decimal("40.00")
    assert GatewayEvent.objects.get(type="charge.refunded").applied_at is not None
