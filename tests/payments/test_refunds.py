"""Refunds from the admin go through the gateway and reverse allocations; the ledger stays consistent."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.gateways.sandbox import SandboxGateway
from billing.models import GatewayEvent, Invoice, Payment, Refund
from billing.selectors.ledger_check import ledger_problems
from billing.services.online_payments import confirm_checkout, start_checkout
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
            attempt=attempt,
            payment_method_id=gateway.create_payment_method(scenario="card_success"),
            gateway=gateway,
        )
    return Payment.objects.get()


def _refund(staff, payment, amount, capture):
    with capture(execute=True):
        return staff.post(
            reverse("admin:billing_payment_refund_online", kwargs={"payment_id": payment.pk}),
            {"amount": amount},
        )


def test_a_partial_refund_from_the_admin_goes_through_the_gateway_and_reopens_the_invoice(
    staff, paid, django_capture_on_commit_callbacks
):
    response = _refund(staff, paid, "20.00", django_capture_on_commit_callbacks)

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == Decimal("20.00") and refund.gateway_refund_id.startswith("re_sbx_")
    assert Invoice.objects.get(pk=paid.allocations.get().invoice_id).balance_due == Decimal("20.00")
    assert GatewayEvent.objects.filter(type="charge.refunded").get().outcome == "0 refund(s) recorded"
    assert ledger_problems() == []


def test_a_full_refund_marks_the_payment_refunded(staff, paid, django_capture_on_commit_callbacks):
    _refund(staff, paid, "120.00", django_capture_on_commit_callbacks)

    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == (Payment.Status.REFUNDED, Decimal("120.00"))
    assert ledger_problems() == []


def test_refunding_more_than_is_left_is_refused_before_the_gateway(staff, paid, django_capture_on_commit_callbacks):
    response = _refund(staff, paid, "120.01", django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert "only 120.00 USD left to refund" in response.content.decode()
    assert not Refund.objects.exists()


def test_an_offline_payment_cannot_be_refunded_through_a_gateway(staff, django_capture_on_commit_callbacks):
    offline = PaymentFactory()

    response = _refund(staff, offline, "10.00", django_capture_on_commit_callbacks)

    assert "was not taken online" in response.content.decode()
    assert not Refund.objects.exists()


def test_the_payment_admin_shows_gateway_ids_and_event_history(staff, paid):
    page = staff.get(reverse("admin:billing_payment_change", args=[paid.pk])).content.decode()

    assert paid.gateway_payment_id in page
    assert "payment_intent.succeeded" in page
    assert reverse("admin:billing_payment_refund_online", kwargs={"payment_id": paid.pk}) in page


def test_the_ledger_is_consistent_after_ach_settles_and_fails(head_office, django_capture_on_commit_callbacks):
    from billing.services.online_payments import settle_sandbox_payment

    gateway = SandboxGateway()
    for invoice, scenario in (
        (head_office["east_invoice"], "ach_settles"),
        (head_office["west_invoice"], "ach_fails"),
    ):
        attempt = start_checkout(
            payer=head_office["hq"],
            allocations={invoice.pk: invoice.balance_due},
            currency="USD",
            method=Payment.Method.ACH,
            gateway=gateway,
        )
        with django_capture_on_commit_callbacks(execute=True):
            attempt = confirm_checkout(
                attempt=attempt,
                payment_method_id=gateway.create_payment_method(scenario=scenario),
                gateway=gateway,
            )
        with django_capture_on_commit_callbacks(execute=True):
            settle_sandbox_payment(attempt=attempt, succeed=scenario == "ach_settles")

    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "succeeded"]
    assert ledger_problems() == []
