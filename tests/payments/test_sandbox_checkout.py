from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from billing.gateways import PaymentDeclined
from billing.gateways.sandbox import SandboxGateway
from billing.models import Allocation, CheckoutAttempt, GatewayEvent, Invoice, Payment, SavedPaymentMethod
from billing.services.online_payments import confirm_checkout, settle_sandbox_payment, start_checkout

pytestmark = pytest.mark.django_db


def _pay(office, scenario, *, method=Payment.Method.CARD, save=False, **start):
    gateway = SandboxGateway()
    allocations = start.pop("allocations", None) or {
        office["east_invoice"].pk: Decimal("120.00"),
        office["west_invoice"].pk: Decimal("80.50"),
    }
    attempt = start_checkout(
        payer=office["hq"],
        allocations=allocations,
        currency="USD",
        method=method,
        started_by=office["contact"].user,
        save_method=save,
        gateway=gateway,
        **start,
    )
    return confirm_checkout(
        attempt=attempt, payment_method_id=gateway.create_payment_method(scenario=scenario), gateway=gateway
    )


def test_a_card_payment_of_two_branch_invoices_is_one_payment_allocated_to_both(
    head_office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = _pay(head_office, "card_success")

    payment = Payment.objects.get()
    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    assert (payment.status, payment.amount, payment.customer) == (
        "succeeded",
        Decimal("200.50"),
        head_office["hq"],
    )
    assert sorted(Allocation.objects.values_list("invoice__customer__display_name", "amount")) == [
        ("Northwind East", Decimal("120.00")),
        ("Northwind West", Decimal("80.50")),
    ]
    assert set(Invoice.objects.values_list("status", "balance_due")) == {("paid", Decimal("0.00"))}


def test_the_sandbox_events_are_stored_and_applied_like_webhooks(head_office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _pay(head_office, "card_success")

    event = GatewayEvent.objects.get()
    assert (event.type, event.gateway, event.payment) == (
        "payment_intent.succeeded",
        "sandbox",
        Payment.objects.get(),
    )
    assert event.applied_at is not None


def test_the_payer_gets_a_receipt_email_after_the_payment_commits(head_office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _pay(head_office, "card_success")

    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert receipt.to == [head_office["contact"].email]
    assert Payment.objects.get().number in receipt.subject
    assert "Northwind East" in receipt.body and "120.00" in receipt.body


def test_a_declined_card_records_no_payment_and_the_payer_may_try_again(head_office):
    with pytest.raises(PaymentDeclined) as declined:
        _pay(head_office, "card_decline")

    assert "declined" in declined.value.reason
    attempt = CheckoutAttempt.objects.get()
    assert attempt.status == CheckoutAttempt.Status.OPEN and "declined" in attempt.failure_reason
    assert not Payment.objects.exists()
    gateway = SandboxGateway()
    retried = confirm_checkout(
        attempt=attempt,
        payment_method_id=gateway.create_payment_method(scenario="card_success"),
        gateway=gateway,
    )
    assert retried.status == CheckoutAttempt.Status.SUCCEEDED
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED


def test_an_ach_payment_is_pending_and_blocks_its_invoices_until_it_settles(
    head_office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = _pay(head_office, "ach_settles", method=Payment.Method.ACH)

    assert attempt.status == CheckoutAttempt.Status.PROCESSING
    assert Payment.objects.get().status == Payment.Status.PENDING
    assert not Allocation.objects.exists()
    with pytest.raises(ValidationError) as refused:
        start_checkout(
            payer=head_office["hq"],
            allocations={head_office["east_invoice"].pk: Decimal("120.00")},
            currency="USD",
            method=Payment.Method.CARD,
            gateway=SandboxGateway(),
        )
    assert refused.value.code == "payment_processing"

    with django_capture_on_commit_callbacks(execute=True):
        settle_sandbox_payment(attempt=attempt, succeed=True)

    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert Allocation.objects.count() == 2
    assert list(GatewayEvent.objects.values_list("type", flat=True)) == [
        "payment_intent.processing",
        "payment_intent.succeeded",
    ]


def test_a_failed_ach_payment_reverses_cleanly_and_frees_the_invoices(head_office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = _pay(head_office, "ach_fails", method=Payment.Method.ACH)
    with django_capture_on_commit_callbacks(execute=True):
        settle_sandbox_payment(attempt=attempt, succeed=False)

    attempt.refresh_from_db()
    payment = Payment.objects.get()
    assert attempt.status == CheckoutAttempt.Status.FAILED
    assert payment.status == Payment.Status.FAILED and "insufficient funds" in payment.failure_reason
    assert not Allocation.objects.exists()
    assert set(Invoice.objects.values_list("balance_due", flat=True)) == {Decimal("120.00"), Decimal("80.50")}
    again = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=SandboxGateway(),
    )
    assert again.pk != attempt.pk


def test_asking_twice_for_the_same_payment_reuses_the_attempt_and_its_intent(head_office):
    office = head_office
    ask = dict(
        payer=office["hq"],
        allocations={office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=SandboxGateway(),
    )

    first = start_checkout(**ask)
    second = start_checkout(**ask)

    assert first.pk == second.pk
    assert first.gateway_intent_id == second.gateway_intent_id


def test_confirming_twice_charges_once(head_office, django_capture_on_commit_callbacks):
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=gateway,
    )
    pm = gateway.create_payment_method(scenario="card_success")

    with django_capture_on_commit_callbacks(execute=True):
        confirm_checkout(attempt=attempt, payment_method_id=pm, gateway=gateway)
        confirm_checkout(attempt=attempt, payment_method_id=pm, gateway=gateway)

    assert Payment.objects.count() == 1
    assert Allocation.objects.get().amount == Decimal("120.00")


def test_opting_in_saves_the_card_and_it_pays_the_next_invoice(head_office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _pay(
            head_office,
            "card_success",
            save=True,
            allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        )
    saved = SavedPaymentMethod.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        attempt = start_checkout(
            payer=head_office["hq"],
            currency="USD",
            method=Payment.Method.CARD,
            allocations={head_office["west_invoice"].pk: Decimal("80.50")},
            saved_method=saved,
            gateway=SandboxGateway(),
        )
        attempt = confirm_checkout(attempt=attempt, gateway=SandboxGateway())

    assert (saved.customer, saved.brand, saved.last4) == (head_office["hq"], "visa", "4242")
    assert attempt.status == CheckoutAttempt.Status.SUCCEEDED
    assert Payment.objects.count() == 2
