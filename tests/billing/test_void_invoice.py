"""Voiding an invoice takes what hangs on it along, or refuses: no credit outlives its reason."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from billing.models import AccountBalance, CheckoutAttempt, CreditNote, Invoice
from billing.services import (
    LineInput,
    apply_credit_note,
    create_credit_note,
    create_invoice,
    record_payment,
    refund_credit_note,
    refund_payment,
    send_invoice,
    void_credit_note,
    void_invoice,
)
from tests.factories import CreditNoteFactory, CustomerFactory, InvoiceFactory, StaffUserFactory
from tests.payments.factories import CheckoutLineFactory

pytestmark = pytest.mark.django_db


def _credit(invoice, amount):
    return create_credit_note(invoice=invoice, lines=[LineInput(description="Goodwill", rate=Decimal(amount))])


def _available_credits(customer) -> Decimal:
    return AccountBalance.objects.get(customer=customer).available_credits


def test_voiding_an_invoice_voids_the_unused_credit_note_raised_against_it():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    note = _credit(invoice, "30.00")
    assert _available_credits(invoice.customer) == Decimal("30.00")

    void_invoice(invoice=invoice)

    note.refresh_from_db()
    assert (note.status, note.balance) == (CreditNote.Status.VOID, Decimal("0.00"))
    assert _available_credits(invoice.customer) == Decimal("0.00")


def test_voiding_an_invoice_leaves_other_credit_notes_of_the_customer_alone():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    free_standing = CreditNoteFactory(customer=invoice.customer, total=Decimal("20.00"))
    other_invoice = InvoiceFactory(customer=invoice.customer, total=Decimal("60.00"))
    other_note = _credit(other_invoice, "15.00")

    void_invoice(invoice=invoice)

    free_standing.refresh_from_db()
    other_note.refresh_from_db()
    assert (free_standing.status, free_standing.balance) == (CreditNote.Status.OPEN, Decimal("20.00"))
    assert (other_note.status, other_note.balance) == (CreditNote.Status.OPEN, Decimal("15.00"))
    assert _available_credits(invoice.customer) == Decimal("35.00")


def test_a_credit_note_already_voided_does_not_stop_the_invoice_from_being_voided():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    note = void_credit_note(credit_note=_credit(invoice, "30.00"))

    void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert CreditNote.objects.get(pk=note.pk).status == CreditNote.Status.VOID


def test_an_invoice_whose_credit_note_was_partly_applied_elsewhere_is_not_voided_and_nothing_changes():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    elsewhere = InvoiceFactory(customer=invoice.customer, total=Decimal("50.00"))
    note = _credit(invoice, "30.00")
    apply_credit_note(credit_note=note, applications={elsewhere.pk: Decimal("10.00")})

    with pytest.raises(ValidationError) as refused:
        void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    note.refresh_from_db()
    assert refused.value.code == "credit_note_used"
    message = refused.value.messages[0]
    assert note.number in message and invoice.number in message and "10.00 USD applied" in message
    assert invoice.status == Invoice.Status.SENT
    assert (note.status, note.balance) == (CreditNote.Status.OPEN, Decimal("20.00"))
    assert _available_credits(invoice.customer) == Decimal("20.00")


def test_an_invoice_whose_credit_note_was_refunded_in_full_is_not_voided():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    note = _credit(invoice, "30.00")
    refund_credit_note(credit_note=note, amount=Decimal("30.00"))

    with pytest.raises(ValidationError) as refused:
        void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert refused.value.code == "credit_note_used"
    assert "30.00 USD refunded" in refused.value.messages[0]
    assert invoice.status == Invoice.Status.SENT


def test_the_way_out_for_a_used_credit_note_is_a_further_credit_note_for_the_rest():
    invoice = InvoiceFactory(total=Decimal("100.00"))
    elsewhere = InvoiceFactory(customer=invoice.customer, total=Decimal("50.00"))
    note = _credit(invoice, "30.00")
    apply_credit_note(credit_note=note, applications={elsewhere.pk: Decimal("10.00")})

    rest = _credit(invoice, "70.00")
    apply_credit_note(credit_note=rest, applications={invoice.pk: Decimal("70.00")})
    apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("20.00")})

    invoice.refresh_from_db()
    assert invoice.balance_due == Decimal("10.00")  # the 10.00 of credit spent on the other invoice


def _sent_retainer(customer, amount):
    return send_invoice(
        invoice=create_invoice(
            customer=customer,
            is_retainer=True,
            issued_on=date(2026, 2, 1),
            lines=[LineInput(description="Advance for the rollout", rate=Decimal(amount))],
        )
    )


def test_a_paid_retainer_that_was_not_applied_is_not_voided_and_its_payment_stays_whole():
    customer = CustomerFactory()
    retainer = _sent_retainer(customer, "500.00")
    payment = record_payment(
        customer=customer, amount=Decimal("500.00"), paid_on=date(2026, 2, 3), method="bank_transfer",
        allocations={retainer.pk: Decimal("500.00")},
    )

    with pytest.raises(ValidationError) as refused:
        void_invoice(invoice=retainer)

    retainer.refresh_from_db()
    assert refused.value.code == "has_applications"
    assert "500.00 USD is unused" in refused.value.messages[0]
    assert "refunding the payment" in refused.value.messages[0]
    assert (retainer.status, retainer.retainer_unused) == (Invoice.Status.PAID, Decimal("500.00"))
    assert AccountBalance.objects.get(customer=customer).available_retainer_payments == Decimal("500.00")
    assert payment.allocations.get().invoice == retainer


def test_a_retainer_whose_payment_was_refunded_can_then_be_voided():
    customer = CustomerFactory()
    retainer = _sent_retainer(customer, "500.00")
    payment = record_payment(
        customer=customer, amount=Decimal("500.00"), paid_on=date(2026, 2, 3), method="bank_transfer",
        allocations={retainer.pk: Decimal("500.00")},
    )
    refund_payment(payment=payment, amount=Decimal("500.00"))

    void_invoice(invoice=retainer)

    retainer.refresh_from_db()
    assert (retainer.status, retainer.balance_due, retainer.retainer_unused) == (
        Invoice.Status.VOID,
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert AccountBalance.objects.get(customer=customer).available_retainer_payments == Decimal("0.00")


def test_an_invoice_with_an_online_payment_still_processing_is_not_voided():
    line = CheckoutLineFactory(attempt__status=CheckoutAttempt.Status.PROCESSING, attempt__method="ach")
    invoice = line.invoice

    with pytest.raises(ValidationError) as refused:
        void_invoice(invoice=invoice)

    invoice.refresh_from_db()
    assert refused.value.code == "payment_processing"
    assert invoice.number in refused.value.messages[0]
    assert invoice.status == Invoice.Status.SENT


def test_a_checkout_not_yet_confirmed_does_not_stop_a_void():
    line = CheckoutLineFactory()

    void_invoice(invoice=line.invoice)

    line.invoice.refresh_from_db()
    assert line.invoice.status == Invoice.Status.VOID


def test_the_void_action_in_the_admin_voids_the_unused_credit_note_and_reports_a_used_one(client):
    client.force_login(StaffUserFactory())
    clean = InvoiceFactory(total=Decimal("100.00"))
    unused = _credit(clean, "30.00")
    used_invoice = InvoiceFactory(customer=clean.customer, total=Decimal("100.00"))
    used = _credit(used_invoice, "30.00")
    refund_credit_note(credit_note=used, amount=Decimal("5.00"))

    response = client.post(
        reverse("admin:billing_invoice_changelist"),
        {"action": "void_selected", "_selected_action": [clean.pk, used_invoice.pk]},
        follow=True,
    )

    body = response.content.decode()
    assert "1 invoice(s) voided" in body
    assert f"credit note {used.number} raised against it was already used" in body
    assert CreditNote.objects.get(pk=unused.pk).status == CreditNote.Status.VOID
    assert Invoice.objects.get(pk=used_invoice.pk).status == Invoice.Status.SENT


def _void_and_apply_at_once(invoice, note) -> tuple[str, str]:
    barrier = threading.Barrier(2)
    results = {}

    def run(name, action):
        try:
            barrier.wait()
            action()
            results[name] = "done"
        except ValidationError as exc:
            results[name] = exc.code
        finally:
            connection.close()

    def apply():
        apply_credit_note(credit_note=note, applications={invoice.pk: Decimal("30.00")})

    threads = [
        threading.Thread(target=run, args=("void", lambda: void_invoice(invoice=invoice))),
        threading.Thread(target=run, args=("apply", apply)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results.get("void"), results.get("apply")


@pytest.mark.django_db(transaction=True)
def test_voiding_while_its_own_credit_note_is_applied_to_it_ends_one_way_or_the_other():
    """Both lock the credit note before the invoice: one waits for the other, neither deadlocks."""
    invoices = InvoiceFactory.create_batch(5, total=Decimal("100.00"))

    outcomes = {_void_and_apply_at_once(invoice, _credit(invoice, "30.00")) for invoice in invoices}

    assert outcomes <= {("done", "credit_not_open"), ("has_applications", "done")}
