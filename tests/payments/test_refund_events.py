"""Stripe refunds as Stripe sends them today: refund.created / refund.updated, and charge.refunded
without the refunds list (API >= 2022-11-15), in any order and repeated. check_ledger is clean after
each test (conftest)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Allocation, CheckoutAttempt, Customer, GatewayEvent, Invoice, Payment, Refund
from billing.money import ZERO
from billing.selectors.statements import LineKind, statement
from billing.services.payments import record_payment
from tests.factories import InvoiceFactory
from tests.fakes.stripe_events import charge_refunded_unlisted, event, payment_intent, refund, refund_list
from tests.fakes.stripe_servers import recorded_stripe

from .factories import CheckoutAttemptFactory, CheckoutLineFactory
from .webhook_helpers import deliver, paid_card_checkout, post, stripe_webhooks  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_webhooks")]


@pytest.fixture
def paid(client, django_capture_on_commit_callbacks):
    return paid_card_checkout(client, django_capture_on_commit_callbacks)


def _refund_event(attempt, status, *, amount=3000, refund_id="re_dash_1", kind="refund.updated", event_id=None):
    return event(kind, refund(refund_id, attempt.gateway_intent_id, amount=amount, status=status), event_id=event_id)


def _state(attempt):
    payment = Payment.objects.get(gateway_payment_id=attempt.gateway_intent_id)
    invoice = Invoice.objects.get(checkout_lines__attempt=attempt)
    return payment, invoice


def _statement_kinds(customer):
    today = timezone.localdate()
    lines = statement(customers=Customer.objects.filter(pk=customer.pk), start=today - timedelta(days=1), end=today)
    return [line.kind for line in lines.lines]


def test_a_dashboard_refund_pending_then_succeeded_reverses_the_allocation_once(
    client, paid, django_capture_on_commit_callbacks
):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _refund_event(paid, "pending", kind="refund.created"),
        _refund_event(paid, "succeeded"),
    )

    payment, invoice = _state(paid)
    refund_row = Refund.objects.get()
    assert (refund_row.gateway_refund_id, refund_row.amount, refund_row.status) == (
        "re_dash_1",
        Decimal("30.00"),
        Refund.Status.SUCCEEDED,
    )
    assert payment.refunded_amount == Decimal("30.00")
    assert invoice.balance_due == Decimal("30.00")


def test_a_pending_refund_counts_as_refunded_at_once(client, paid, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, _refund_event(paid, "pending", kind="refund.created"))

    payment, invoice = _state(paid)
    assert Refund.objects.get().status == Refund.Status.PENDING
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("30.00"), Decimal("30.00"))


def test_succeeded_arriving_before_created_records_one_succeeded_refund(
    client, paid, django_capture_on_commit_callbacks
):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _refund_event(paid, "succeeded"),
        _refund_event(paid, "pending", kind="refund.created"),
    )

    payment, invoice = _state(paid)
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("30.00"), Decimal("30.00"))


def test_the_same_refund_event_delivered_three_times_is_one_refund(client, paid, django_capture_on_commit_callbacks):
    repeated = _refund_event(paid, "succeeded", kind="refund.created", event_id="evt_same_refund")

    deliver(client, django_capture_on_commit_callbacks, repeated, repeated, repeated)

    assert Refund.objects.count() == 1
    assert GatewayEvent.objects.filter(event_id="evt_same_refund").count() == 1
    assert _state(paid)[1].balance_due == Decimal("30.00")


def test_a_full_dashboard_refund_marks_the_payment_refunded(client, paid, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, _refund_event(paid, "succeeded", amount=10000))

    payment, invoice = _state(paid)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.REFUNDED, Decimal("100.00"))
    assert invoice.balance_due == Decimal("100.00") and invoice.status == Invoice.Status.SENT


@pytest.mark.parametrize("end", ["failed", "canceled"])
def test_a_refund_that_fails_or_is_canceled_applies_the_money_again(
    client, paid, django_capture_on_commit_callbacks, end
):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _refund_event(paid, "pending", kind="refund.created", amount=10000),
        _refund_event(paid, end, amount=10000),
    )

    payment, invoice = _state(paid)
    refund_row = Refund.objects.get()
    assert refund_row.status == end
    assert (payment.status, payment.refunded_amount, payment.unallocated) == (
        Payment.Status.SUCCEEDED,
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert (invoice.balance_due, invoice.status) == (Decimal("0.00"), Invoice.Status.PAID)
    assert Allocation.objects.filter(payment=payment).count() == 2  # the first, and the one applying it again
    assert LineKind.REFUND not in _statement_kinds(payment.customer)


def test_a_failed_refund_arriving_twice_restores_once(client, paid, django_capture_on_commit_callbacks):
    failed = _refund_event(paid, "failed")

    deliver(
        client, django_capture_on_commit_callbacks, _refund_event(paid, "pending", kind="refund.created"), failed
    )
    deliver(client, django_capture_on_commit_callbacks, failed, _refund_event(paid, "failed", kind="refund.failed"))

    payment, invoice = _state(paid)
    assert (payment.refunded_amount, payment.unallocated, invoice.balance_due) == (ZERO, ZERO, ZERO)


def test_a_failed_refund_for_an_invoice_paid_meanwhile_stays_as_credit_on_the_payment(
    client, paid, django_capture_on_commit_callbacks
):
    deliver(client, django_capture_on_commit_callbacks, _refund_event(paid, "pending", kind="refund.created"))
    payment, invoice = _state(paid)
    record_payment(
        customer=invoice.customer,
        amount=Decimal("30.00"),
        paid_on=timezone.localdate(),
        method=Payment.Method.BANK_TRANSFER,
        allocations={invoice.pk: Decimal("30.00")},
    )

    deliver(client, django_capture_on_commit_callbacks, _refund_event(paid, "failed"))

    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.refunded_amount, payment.unallocated) == (Decimal("0.00"), Decimal("30.00"))
    assert invoice.balance_due == Decimal("0.00")


def test_a_canceled_refund_seen_before_its_creation_never_counts(client, paid, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _refund_event(paid, "canceled"),
        _refund_event(paid, "pending", kind="refund.created"),
    )

    payment, invoice = _state(paid)
    assert Refund.objects.get().status == Refund.Status.CANCELED
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("0.00"), Decimal("0.00"))


def test_charge_refunded_without_its_list_asks_stripe_for_the_refunds(
    client, paid, django_capture_on_commit_callbacks, settings
):
    intent = paid.gateway_intent_id
    listing = refund_list(
        refund("re_list_1", intent, amount=2000, status="succeeded"),
        refund("re_list_2", intent, amount=1500, status="pending"),
    )
    unlisted = event("charge.refunded", charge_refunded_unlisted(intent, amount=10000, amount_refunded=3500))

    with recorded_stripe({("GET", "/v1/refunds"): [(200, listing)]}) as (server, url):
        settings.STRIPE_API_BASE = url
        deliver(client, django_capture_on_commit_callbacks, unlisted, unlisted)
        # the refunds' own events, later: nothing more is recorded
        deliver(
            client,
            django_capture_on_commit_callbacks,
            event("refund.created", refund("re_list_1", intent, amount=2000, status="succeeded")),
        )

    payment, invoice = _state(paid)
    assert sorted(Refund.objects.values_list("gateway_refund_id", "amount", "status")) == [
        ("re_list_1", Decimal("20.00"), "succeeded"),
        ("re_list_2", Decimal("15.00"), "pending"),
    ]
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("35.00"), Decimal("35.00"))
    asked = [r for r in server.seen if r["path"] == "/v1/refunds"]
    assert len(asked) == 1 and f"payment_intent={intent}" in asked[0]["query"]
    assert asked[0]["stripe_version"] == settings.STRIPE_API_VERSION
    assert GatewayEvent.objects.filter(type="charge.refunded").first().outcome == "2 refund(s) recorded"


def test_charge_refunded_of_an_unknown_intent_does_not_ask_stripe(client, django_capture_on_commit_callbacks):
    unlisted = event("charge.refunded", charge_refunded_unlisted("pi_not_ours", amount=10000, amount_refunded=100))

    deliver(client, django_capture_on_commit_callbacks, unlisted)  # STRIPE_API_BASE is unreachable: not asked

    assert not Refund.objects.exists()
    assert GatewayEvent.objects.get().outcome.startswith("ignored")


@pytest.mark.django_db(transaction=True)
def test_a_failed_refund_is_applied_by_the_worker_after_real_commits(client):
    attempt = CheckoutAttemptFactory(amount=Decimal("100.00"))
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))
    succeeded = payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded")

    # No capture: each webhook's transaction commits, then the (eager) task runs in its own.
    post(client, event("payment_intent.succeeded", succeeded))
    post(client, _refund_event(attempt, "pending", kind="refund.created"))
    post(client, _refund_event(attempt, "failed"))

    assert CheckoutAttempt.objects.get().status == CheckoutAttempt.Status.SUCCEEDED
    payment, invoice = _state(attempt)
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("0.00"), Decimal("0.00"))
    assert GatewayEvent.objects.filter(applied_at__isnull=True).count() == 0
