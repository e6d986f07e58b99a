"""The sandbox drives the same refund and dispute events as Stripe, so `make run` shows them: staff
actions on a sandbox payment open a dispute, close it as won or lost, or fail a refund."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.gateways.sandbox import SandboxGateway
from billing.models import Dispute, GatewayEvent, Invoice, Payment, Refund
from billing.services.online_payments import confirm_checkout, refund_online_payment, start_checkout
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(head_office, django_capture_on_commit_callbacks):
    """A sandbox card payment of 120.00 for the east branch's invoice."""
    gateway = SandboxGateway()
    attempt = start_checkout(
        payer=head_office["hq"],
        allocations={head_office["east_invoice"].pk: Decimal("120.00")},
        currency="USD",
        method=Payment.Method.CARD,
        gateway=gateway,
    )
    with django_capture_on_commit_callbacks(execute=True):
        confirm_checkout(
            attempt=attempt, payment_method_id=gateway.create_payment_method(scenario="card_success"), gateway=gateway
        )
    return Payment.objects.get()


def _action(staff, capture, action, payment):
    with capture(execute=True):
        return staff.post(
            reverse("admin:billing_payment_changelist"), {"action": action, "_selected_action": [payment.pk]}
        )


def _invoice(payment):
    return Invoice.objects.filter(allocations__payment=payment).distinct().get()


def test_a_sandbox_refund_emits_created_then_succeeded_and_charge_refunded_without_its_list(
    paid, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_online_payment(payment=paid, amount=Decimal("20.00"))

    refund.refresh_from_db()
    events = list(
        GatewayEvent.objects.filter(type__in=("refund.created", "refund.updated", "charge.refunded"))
        .order_by("pk")
        .values_list("type", "payload__data__object__status", "outcome")
    )
    assert [(t, status) for t, status, _o in events] == [
        ("refund.created", "pending"),
        ("refund.updated", "succeeded"),
        ("charge.refunded", "succeeded"),  # the charge's own status; it carries no refunds list
    ]
    assert events[1][2] == "0 refund(s) recorded, 1 updated"
    assert "refunds" not in GatewayEvent.objects.get(type="charge.refunded").payload["data"]["object"]
    assert refund.status == Refund.Status.SUCCEEDED
    assert _invoice(paid).balance_due == Decimal("20.00")


def test_a_failed_sandbox_refund_applies_the_money_again(staff, paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund_online_payment(payment=paid, amount=Decimal("120.00"))

    _action(staff, django_capture_on_commit_callbacks, "fail_refund_sandbox", paid)

    paid.refresh_from_db()
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert (paid.status, paid.refunded_amount) == (Payment.Status.SUCCEEDED, Decimal("0.00"))
    assert _invoice(paid).balance_due == Decimal("0.00")


def test_staff_open_a_sandbox_dispute_and_it_is_won(staff, paid, django_capture_on_commit_callbacks):
    _action(staff, django_capture_on_commit_callbacks, "open_dispute_sandbox", paid)
    paid.refresh_from_db()
    dispute = Dispute.objects.get()
    opened = (paid.disputed, dispute.status, dispute.fee, _invoice(paid).balance_due)

    _action(staff, django_capture_on_commit_callbacks, "win_dispute_sandbox", paid)

    paid.refresh_from_db()
    dispute.refresh_from_db()
    assert opened == (True, "needs_response", Decimal("15.00"), Decimal("120.00"))
    assert dispute.evidence_due_by is not None
    assert (dispute.status, dispute.outcome, paid.disputed) == ("won", "won", False)
    assert _invoice(paid).balance_due == Decimal("0.00")
    types = GatewayEvent.objects.filter(type__startswith="charge.dispute").order_by("pk").values_list("type", flat=True)
    assert list(types) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]


def test_a_sandbox_dispute_lost_keeps_the_money_off(staff, paid, django_capture_on_commit_callbacks):
    _action(staff, django_capture_on_commit_callbacks, "open_dispute_sandbox", paid)

    _action(staff, django_capture_on_commit_callbacks, "lose_dispute_sandbox", paid)

    paid.refresh_from_db()
    assert Dispute.objects.get().outcome == "lost"
    assert paid.disputed and paid.status == Payment.Status.REFUNDED
    assert _invoice(paid).balance_due == Decimal("120.00")


def test_closing_without_an_open_dispute_is_refused_with_a_message(staff, paid, django_capture_on_commit_callbacks):
    response = _action(staff, django_capture_on_commit_callbacks, "win_dispute_sandbox", paid)

    assert "has no open dispute" in staff.get(response.url).content.decode()
    assert not Dispute.objects.exists()


def test_an_offline_payment_cannot_be_disputed_by_hand(staff, django_capture_on_commit_callbacks):
    payment = PaymentFactory()

    response = _action(staff, django_capture_on_commit_callbacks, "open_dispute_sandbox", payment)

    assert "Only sandbox payments" in staff.get(response.url).content.decode()
    assert not Dispute.objects.exists()
