"""The re-queue beat: stored gateway events no worker applied are queued again (tasks run eagerly here)."""

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from billing.gateways import WebhookEvent
from billing.gateways.tasks import requeue_gateway_events_task
from billing.models import CheckoutAttempt, GatewayEvent, Payment
from billing.services.online_payments import (
    receive_gateway_event,
    record_gateway_event,
    requeue_unapplied_gateway_events,
)
from tests.factories import InvoiceFactory, StaffUserFactory
from tests.fakes.stripe_events import charge_refunded, event, payment_intent

from .factories import CheckoutAttemptFactory, CheckoutLineFactory

GRACE = timedelta(seconds=30)


@pytest.fixture(autouse=True)
def _stripe(settings):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_unused"


def _checkout(amount="100.00"):
    """An ACH checkout for one invoice, processing at Stripe (the bank debit takes days)."""
    attempt = CheckoutAttemptFactory(method=Payment.Method.ACH, amount=Decimal(amount))
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal(amount)))
    return attempt


def _stored(payload: bytes, *, seconds_ago: int) -> GatewayEvent:
    """An event stored by the webhook whose task never ran (its worker died, the broker lost it)."""
    body = json.loads(payload)
    webhook = WebhookEvent(id=body["id"], type=body["type"], data=body["data"]["object"], payload=body)
    stored = receive_gateway_event(event=webhook, gateway_name="stripe", queue=False)
    GatewayEvent.objects.filter(pk=stored.pk).update(received_at=timezone.now() - timedelta(seconds=seconds_ago))
    return stored


def _succeeded(attempt, *, seconds_ago=120):
    intent = payment_intent(
        attempt.gateway_intent_id, amount=int(attempt.amount * 100), status="succeeded", kind="us_bank_account"
    )
    return _stored(event("payment_intent.succeeded", intent), seconds_ago=seconds_ago)


def _requeue(*, limit=500):
    return requeue_unapplied_gateway_events(older_than=GRACE, limit=limit, expires=300)


@pytest.mark.django_db
def test_an_unapplied_success_event_is_queued_again_and_pays_the_checkout(django_capture_on_commit_callbacks):
    attempt = _checkout()
    stored = _succeeded(attempt)

    with django_capture_on_commit_callbacks(execute=True):
        queued = _requeue()

    assert queued == [stored.pk]
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    payment = Payment.objects.get()
    assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, Decimal("100.00"))
    assert GatewayEvent.objects.get().applied_at is not None


@pytest.mark.django_db
def test_an_event_younger_than_the_grace_is_left_to_its_own_task(django_capture_on_commit_callbacks):
    attempt = _checkout()
    _succeeded(attempt, seconds_ago=5)

    with django_capture_on_commit_callbacks(execute=True):
        queued = _requeue()

    assert queued == []
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_applied_events_are_not_queued_again(django_capture_on_commit_callbacks):
    attempt = _checkout()
    _succeeded(attempt)
    with django_capture_on_commit_callbacks(execute=True):
        _requeue()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = _requeue()

    assert queued == [] and callbacks == []
    assert Payment.objects.count() == 1


@pytest.mark.django_db
def test_one_run_queues_at_most_the_limit_oldest_first(django_capture_on_commit_callbacks):
    newest, oldest, middle = (_succeeded(_checkout(), seconds_ago=age) for age in (60, 600, 300))

    with django_capture_on_commit_callbacks(execute=True):
        queued = _requeue(limit=2)

    assert queued == [oldest.pk, middle.pk]
    assert set(GatewayEvent.objects.filter(applied_at__isnull=True).values_list("pk", flat=True)) == {newest.pk}
    assert Payment.objects.count() == 2


@pytest.mark.django_db
def test_a_refund_waiting_for_a_processing_payment_is_not_queued_again(django_capture_on_commit_callbacks):
    attempt = _checkout()
    refunded = _stored(
        event("charge.refunded", charge_refunded(attempt.gateway_intent_id, amount=10000, refunds=[("re_1", 4000)])),
        seconds_ago=600,
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = _requeue()  # its first look: the payment has not succeeded, so it waits
    refunded.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        second = _requeue()

    assert first == [refunded.pk]
    assert refunded.applied_at is None and refunded.outcome.startswith("waiting")
    assert second == []  # no hot loop: nothing about its payment changed


@pytest.mark.django_db
def test_a_waiting_refund_is_queued_again_once_its_checkout_failed(django_capture_on_commit_callbacks):
    attempt = _checkout()
    refunded = _stored(
        event("charge.refunded", charge_refunded(attempt.gateway_intent_id, amount=10000, refunds=[("re_1", 4000)])),
        seconds_ago=600,
    )
    with django_capture_on_commit_callbacks(execute=True):
        _requeue()
    failure = payment_intent(
        attempt.gateway_intent_id,
        amount=10000,
        status="requires_payment_method",
        kind="us_bank_account",
        failure="account closed",
    )
    record_gateway_event(event=_stored(event("payment_intent.payment_failed", failure), seconds_ago=60))

    with django_capture_on_commit_callbacks(execute=True):
        queued = _requeue()

    refunded.refresh_from_db()
    assert queued == [refunded.pk]
    assert refunded.applied_at is not None and refunded.outcome.startswith("ignored")
    assert CheckoutAttempt.objects.get().status == CheckoutAttempt.Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_an_event_a_task_is_applying_right_now_is_not_queued_again():
    attempt = _checkout()
    stored = _succeeded(attempt)
    locked, release = threading.Event(), threading.Event()

    def running_task():  # holds the event's row as record_gateway_event does while it applies it
        with transaction.atomic():
            GatewayEvent.objects.select_for_update().get(pk=stored.pk)
            locked.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=running_task)
    holder.start()
    assert locked.wait(10)
    try:
        queued = _requeue()
    finally:
        release.set()
        holder.join(10)

    assert queued == []
    assert _requeue() == [stored.pk]  # once that task is gone (applied or died), it is picked up


def test_beat_runs_the_requeue_task_at_least_every_minute():
    schedule = django_settings.CELERY_BEAT_SCHEDULE.values()
    entries = [entry for entry in schedule if entry["task"] == requeue_gateway_events_task.name]

    assert len(entries) == 1 and entries[0]["schedule"] <= 60


@pytest.mark.django_db
def test_the_back_office_lists_the_events_still_to_apply(client, django_capture_on_commit_callbacks):
    applied = _succeeded(_checkout())
    with django_capture_on_commit_callbacks(execute=True):
        _requeue()
    pending = _succeeded(_checkout(), seconds_ago=5)
    client.force_login(StaffUserFactory())

    response = client.get(reverse("admin:billing_gatewayevent_changelist"), {"applied_at__isempty": "1"})

    assert response.status_code == 200
    assert [event.pk for event in response.context["cl"].result_list] == [pending.pk]
    assert GatewayEvent.objects.get(pk=applied.pk).applied_at is not None
