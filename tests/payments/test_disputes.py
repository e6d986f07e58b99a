"""Card disputes from Stripe's charge.dispute.* events: the disputed money comes off the invoices while
Stripe holds it, comes back when won, stays off when lost; in any order and repeated. check_ledger is
clean after each test (conftest)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import CheckoutAttempt, Customer, Dispute, GatewayEvent, Invoice, Payment, Refund
from billing.selectors.statements import LineKind, statement
from billing.services.payments import record_payment
from tests.factories import ContactPersonFactory, InvoiceFactory, StaffUserFactory
from tests.fakes.stripe_events import dispute, event, payment_intent

from .factories import CheckoutAttemptFactory, CheckoutLineFactory
from .webhook_helpers import deliver, paid_card_checkout, stripe_webhooks  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_webhooks")]


@pytest.fixture
def paid(client, django_capture_on_commit_callbacks):
    return paid_card_checkout(client, django_capture_on_commit_callbacks)


def _dispute(attempt, kind="created", *, status="needs_response", amount=10000, event_id=None, **more):
    obj = dispute("du_test_1", attempt.gateway_intent_id, amount=amount, status=status, **more)
    return event(f"charge.dispute.{kind}", obj, event_id=event_id)


def _state(attempt):
    payment = Payment.objects.get(gateway_payment_id=attempt.gateway_intent_id)
    return payment, Invoice.objects.get(checkout_lines__attempt=attempt)


def _refund_lines(customer):
    today = timezone.localdate()
    lines = statement(customers=Customer.objects.filter(pk=customer.pk), start=today - timedelta(days=1), end=today)
    return [line for line in lines.lines if line.kind == LineKind.REFUND]


def _disputed_portal_payment(client, callbacks, amount=10000) -> Payment:
    """A contact's 100.00 card payment with a dispute of `amount` cents, the contact logged in."""
    contact = ContactPersonFactory()
    attempt = CheckoutAttemptFactory(payer=contact.customer)
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))
    deliver(
        client,
        callbacks,
        event("payment_intent.succeeded", payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded")),
        _dispute(attempt, amount=amount),
    )
    client.force_login(contact.user)
    return Payment.objects.get()


def test_a_dispute_opened_takes_the_money_off_the_invoice_and_marks_the_payment_disputed(
    client, paid, django_capture_on_commit_callbacks
):
    due = int(timezone.now().timestamp()) + 5 * 86400
    deliver(client, django_capture_on_commit_callbacks, _dispute(paid, reason="product_not_received", due_by=due))

    payment, invoice = _state(paid)
    row = Dispute.objects.get()
    assert (row.status, row.amount, row.reason, row.fee, row.payment) == (
        "needs_response",
        Decimal("100.00"),
        "product_not_received",
        Decimal("15.00"),
        payment,
    )
    assert row.evidence_due_by.timestamp() == due and row.closed_on is None
    assert payment.disputed and payment.display_status == "Disputed"
    assert (invoice.balance_due, invoice.status) == (Decimal("100.00"), Invoice.Status.SENT)
    assert row.hold.amount == Decimal("100.00") and row.hold.reference == "Dispute du_test_1"
    assert [line.debit for line in _refund_lines(payment.customer)] == [Decimal("100.00")]


def test_a_won_dispute_applies_the_money_again(client, paid, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _dispute(paid),
        _dispute(paid, "closed", status="won", reinstated=True),
        _dispute(paid, "funds_reinstated", status="won", reinstated=True),
    )

    payment, invoice = _state(paid)
    row = Dispute.objects.get()
    assert (row.status, row.outcome, row.closed_on) == ("won", "won", timezone.localdate())
    assert row.hold.status == Refund.Status.CANCELED
    assert not payment.disputed and payment.status == Payment.Status.SUCCEEDED
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("0.00"), Decimal("0.00"))
    assert _refund_lines(payment.customer) == []


def test_a_lost_dispute_keeps_the_money_off(client, paid, django_capture_on_commit_callbacks):
    deliver(
        client, django_capture_on_commit_callbacks, _dispute(paid), _dispute(paid, "closed", status="lost")
    )

    payment, invoice = _state(paid)
    row = Dispute.objects.get()
    assert (row.status, row.outcome) == ("lost", "lost")
    assert payment.disputed and payment.status == Payment.Status.REFUNDED
    assert invoice.balance_due == Decimal("100.00")


def test_closed_as_won_before_created_holds_nothing(client, paid, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _dispute(paid, "closed", status="won", reinstated=True),
        _dispute(paid),
        _dispute(paid, "funds_withdrawn"),
    )

    payment, invoice = _state(paid)
    assert Dispute.objects.get().status == "won"
    assert not Refund.objects.exists()
    assert not payment.disputed and invoice.balance_due == Decimal("0.00")


def test_closed_as_lost_before_created_holds_the_money_once(client, paid, django_capture_on_commit_callbacks):
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _dispute(paid, "closed", status="lost"),
        _dispute(paid),
        _dispute(paid, "funds_withdrawn"),
    )

    payment, invoice = _state(paid)
    assert Dispute.objects.get().status == "lost"
    assert Refund.objects.count() == 1
    assert (payment.refunded_amount, invoice.balance_due) == (Decimal("100.00"), Decimal("100.00"))


def test_a_dispute_event_repeated_holds_once(client, paid, django_capture_on_commit_callbacks):
    created = _dispute(paid, event_id="evt_dispute_once")

    deliver(client, django_capture_on_commit_callbacks, created, created, _dispute(paid, "funds_withdrawn"))

    assert Dispute.objects.count() == 1 and Refund.objects.count() == 1
    assert _state(paid)[1].balance_due == Decimal("100.00")


def test_an_inquiry_holds_nothing(client, paid, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, _dispute(paid, status="warning_needs_response"))

    payment, invoice = _state(paid)
    assert Dispute.objects.get().fee == Decimal("0.00")
    assert not Refund.objects.exists() and not payment.disputed
    assert invoice.balance_due == Decimal("0.00")


def test_a_partial_dispute_reopens_only_its_amount(client, paid, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, _dispute(paid, amount=4000))

    payment, invoice = _state(paid)
    assert (payment.status, payment.refunded_amount) == (Payment.Status.SUCCEEDED, Decimal("40.00"))
    assert (invoice.balance_due, invoice.status) == (Decimal("40.00"), Invoice.Status.PARTIALLY_PAID)


def test_won_after_the_invoice_was_paid_otherwise_leaves_the_money_as_credit(
    client, paid, django_capture_on_commit_callbacks
):
    deliver(client, django_capture_on_commit_callbacks, _dispute(paid))
    payment, invoice = _state(paid)
    record_payment(
        customer=invoice.customer,
        amount=Decimal("100.00"),
        paid_on=timezone.localdate(),
        method=Payment.Method.BANK_TRANSFER,
        allocations={invoice.pk: Decimal("100.00")},
    )

    deliver(client, django_capture_on_commit_callbacks, _dispute(paid, "closed", status="won", reinstated=True))

    payment.refresh_from_db()
    assert (payment.unallocated, payment.refunded_amount) == (Decimal("100.00"), Decimal("0.00"))


def test_a_dispute_arriving_before_the_payment_succeeded_waits_for_it(client, django_capture_on_commit_callbacks):
    attempt = CheckoutAttemptFactory()
    CheckoutLineFactory(attempt=attempt, invoice=InvoiceFactory(customer=attempt.payer, total=Decimal("100.00")))

    deliver(client, django_capture_on_commit_callbacks, _dispute(attempt))
    waiting = GatewayEvent.objects.get()
    deliver(
        client,
        django_capture_on_commit_callbacks,
        event("payment_intent.succeeded", payment_intent(attempt.gateway_intent_id, amount=10000, status="succeeded")),
    )

    assert waiting.applied_at is None and waiting.outcome.startswith("waiting")
    assert CheckoutAttempt.objects.get().status == CheckoutAttempt.Status.SUCCEEDED
    payment, invoice = _state(attempt)
    assert payment.disputed and invoice.balance_due == Decimal("100.00")
    assert GatewayEvent.objects.filter(applied_at__isnull=True).count() == 0


def test_staff_see_disputes_with_their_evidence_due_date(client, paid, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, _dispute(paid))
    client.force_login(StaffUserFactory())
    payment = _state(paid)[0]

    listing = client.get(reverse("admin:billing_dispute_changelist")).content.decode()
    page = client.get(reverse("admin:billing_payment_change", args=[payment.pk])).content.decode()

    assert "du_test_1" in listing and "Needs response" in listing
    assert "du_test_1" in page and "evidence due by" in page.lower()


def test_the_customer_sees_the_payment_as_disputed(client, django_capture_on_commit_callbacks):
    payment = _disputed_portal_payment(client, django_capture_on_commit_callbacks)

    listing = client.get(reverse("portal:payment-list")).content.decode()
    receipt = client.get(reverse("portal:payment-detail", args=[payment.pk])).content.decode()

    assert "badge-disputed" in listing and ">Disputed<" in listing
    assert ">Disputed<" in receipt


def test_a_dispute_updated_under_review_keeps_the_hold_and_a_late_created_does_not_go_back(
    client, paid, django_capture_on_commit_callbacks
):
    later = int(timezone.now().timestamp()) + 9 * 86400
    deliver(
        client,
        django_capture_on_commit_callbacks,
        _dispute(paid),
        _dispute(paid, "updated", status="under_review", due_by=later),
        _dispute(paid, event_id="evt_late_created"),
    )

    payment, invoice = _state(paid)
    row = Dispute.objects.get()
    assert (row.status, row.evidence_due_by.timestamp()) == ("under_review", later)
    assert Refund.objects.count() == 1 and payment.disputed
    assert invoice.balance_due == Decimal("100.00")
    assert "unchanged" in GatewayEvent.objects.get(event_id="evt_late_created").outcome


def test_check_ledger_finds_a_disputed_flag_that_disagrees_with_the_disputes(
    client, paid, django_capture_on_commit_callbacks
):
    from billing.selectors.ledger_check import ledger_problems

    deliver(client, django_capture_on_commit_callbacks, _dispute(paid))
    payment = _state(paid)[0]
    Payment.objects.filter(pk=payment.pk).update(disputed=False)  # a write that skipped the service

    found = ledger_problems()
    Payment.objects.filter(pk=payment.pk).update(disputed=True)

    assert found == [f"Payment {payment.pk}: disputed flag is False, its disputes say True"]


def test_the_receipt_reads_disputed_money_as_disputed_not_refunded(client, django_capture_on_commit_callbacks):
    payment = _disputed_portal_payment(client, django_capture_on_commit_callbacks, amount=4000)

    receipt = client.get(reverse("portal:payment-detail", args=[payment.pk])).content.decode()
    pdf = client.get(reverse("portal:payment-pdf", args=[payment.pk]))

    assert "Disputed (held by your bank's dispute)</th><td class=\"num\">$40.00" in receipt
    assert ">Refunded<" not in receipt
    assert "Applied to invoices</th><td class=\"num\">$60.00" in receipt
    from io import BytesIO

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert "Disputed $40.00" in text and "Refunded" not in text
