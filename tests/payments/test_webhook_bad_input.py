"""Webhooks naming unknown refunds, disputes or intents, amounts above the payment, or another account's
objects: answered 200, nothing written beyond the stored event, whose outcome (and a warning in the log)
says why."""

import json
import logging

import pytest

from billing.models import Allocation, Dispute, GatewayEvent, Invoice, Payment, Refund
from tests.factories import PaymentFactory
from tests.fakes.stripe_events import charge_refunded, dispute, event, payment_intent, refund

from .factories import CheckoutAttemptFactory
from .webhook_helpers import deliver, paid_card_checkout, stripe_webhooks  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_webhooks")]


@pytest.fixture
def paid(client, django_capture_on_commit_callbacks):
    return paid_card_checkout(client, django_capture_on_commit_callbacks)


def _snapshot():
    return (
        list(Refund.objects.values_list("pk", "status")),
        list(Dispute.objects.values_list("pk", "status")),
        list(Payment.objects.values_list("pk", "status", "unallocated", "refunded_amount", "disputed")),
        list(Invoice.objects.values_list("pk", "balance_due", "status")),
        Allocation.objects.count(),
    )


def _ignored(client, capture, caplog, payload: bytes) -> str:
    before = _snapshot()
    with caplog.at_level(logging.WARNING, logger="billing.services.online_payments"):
        deliver(client, capture, payload)
    stored = GatewayEvent.objects.get(event_id=json.loads(payload)["id"])
    assert _snapshot() == before
    assert stored.outcome.startswith("ignored") and stored.applied_at is not None
    assert stored.event_id in caplog.text
    return stored.outcome


def test_a_refund_of_an_unknown_intent_is_ignored(client, caplog, django_capture_on_commit_callbacks):
    payload = event("refund.created", refund("re_x", "pi_nobody", amount=500))

    outcome = _ignored(client, django_capture_on_commit_callbacks, caplog, payload)

    assert "no payment" in outcome


def test_a_refund_above_what_is_left_of_the_payment_is_ignored(
    client, paid, caplog, django_capture_on_commit_callbacks
):
    payload = event("refund.created", refund("re_big", paid.gateway_intent_id, amount=10001))

    outcome = _ignored(client, django_capture_on_commit_callbacks, caplog, payload)

    assert "above" in outcome


def test_charge_refunded_above_the_payment_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    payload = event(
        "charge.refunded", charge_refunded(paid.gateway_intent_id, amount=20000, refunds=[("re_big2", 20000)])
    )

    assert "above" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_refund_in_another_currency_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    payload = event("refund.created", refund("re_eur", paid.gateway_intent_id, amount=500, currency="eur"))

    assert "not of this payment" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_refund_with_an_unknown_status_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    payload = event("refund.updated", refund("re_odd", paid.gateway_intent_id, amount=500, status="exploded"))

    assert "unknown status" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_refund_id_known_on_another_payment_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    deliver(
        client, django_capture_on_commit_callbacks, event("refund.created", refund("re_1", paid.gateway_intent_id,
                                                                                   amount=500))
    )
    other = paid_card_checkout(client, django_capture_on_commit_callbacks)
    payload = event("refund.updated", refund("re_1", other.gateway_intent_id, amount=500, status="failed"))

    assert "does not match" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_dispute_of_an_unknown_intent_is_ignored(client, caplog, django_capture_on_commit_callbacks):
    payload = event("charge.dispute.created", dispute("du_x", "pi_nobody", amount=500))

    assert "no payment" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_dispute_above_the_payment_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    payload = event("charge.dispute.created", dispute("du_big", paid.gateway_intent_id, amount=10001))

    assert "does not fit" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_a_dispute_id_known_on_another_payment_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        event("charge.dispute.created", dispute("du_1", paid.gateway_intent_id, amount=500)),
    )
    other = paid_card_checkout(client, django_capture_on_commit_callbacks)
    payload = event("charge.dispute.closed", dispute("du_1", other.gateway_intent_id, amount=500, status="won"))

    assert "another payment" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_an_event_of_another_stripe_account_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    body = json.loads(event("refund.created", refund("re_conn", paid.gateway_intent_id, amount=500)))
    body["account"] = "acct_someone_else"

    outcome = _ignored(client, django_capture_on_commit_callbacks, caplog, json.dumps(body).encode())

    assert "another account" in outcome


def test_an_intent_of_another_checkout_is_ignored(client, caplog, django_capture_on_commit_callbacks):
    attempt = CheckoutAttemptFactory()
    obj = payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded")
    obj["metadata"] = {"checkout": "00000000-0000-0000-0000-000000000000", "payer": str(attempt.payer_id + 1)}

    outcome = _ignored(client, django_capture_on_commit_callbacks, caplog, event("payment_intent.succeeded", obj))

    assert "another checkout" in outcome


def test_a_refund_of_a_sandbox_payment_sent_to_the_stripe_webhook_is_ignored(
    client, caplog, django_capture_on_commit_callbacks
):
    payment = PaymentFactory(gateway="sandbox", gateway_payment_id="pi_sbx_elsewhere", method=Payment.Method.CARD)
    payload = event("refund.created", refund("re_sbx_x", payment.gateway_payment_id, amount=500))

    assert "no payment" in _ignored(client, django_capture_on_commit_callbacks, caplog, payload)


def test_an_unreadable_refund_object_is_ignored(client, paid, caplog, django_capture_on_commit_callbacks):
    body = refund("re_broken", paid.gateway_intent_id, amount=500)
    del body["amount"]
    payload = event("refund.created", body)

    before = _snapshot()
    deliver(client, django_capture_on_commit_callbacks, payload)

    assert _snapshot() == before
    assert GatewayEvent.objects.get(type="refund.created").outcome.startswith("ignored: the refund.created event could")
